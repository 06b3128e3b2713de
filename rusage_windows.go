package childproc

// selfPeakRSS returns 0: Windows children report no peak RSS.
func selfPeakRSS() int64 { return 0 }
