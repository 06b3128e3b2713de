package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// A progressLine draws --bar, --eta and --progress on stderr: jobs done
// of the total, running and failed jobs, the rate and the time left. It
// draws nothing when stderr is not a terminal; a nil *progressLine is
// such a line.
type progressLine struct {
	bar *progressbar.ProgressBar
}

// newProgressLine returns the line for total jobs on w, or nil when w is
// not a terminal.
func newProgressLine(w io.Writer, total int) *progressLine {
	f, ok := terminal(w)
	if !ok {
		return nil
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("starting"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("jobs"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionClearOnFinish(),
	)
	return &progressLine{bar: bar}
}

// update shows the runner's tallies.
func (p *progressLine) update(r *jobRunner) {
	if p == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("running %d, failed %d", r.running, r.failures))
	p.bar.Set(r.done)
}

// finish clears the line.
func (p *progressLine) finish() {
	if p == nil {
		return
	}
	p.bar.Finish()
}
