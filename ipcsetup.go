package childproc

// Temporary until the ipc package lands: the IPC stdio entry.

func (c *Child) setupIPC(st *stdioSetup, i int) *Error {
	return argError(CodeInvalidArgValue, "The 'ipc' stdio entry is not available yet")
}

func (c *Child) ipcEnv() []string { return nil }

func (c *Child) startIPC() {}
