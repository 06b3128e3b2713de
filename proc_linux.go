package childproc

import (
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const isLinux = true

// setParentDeathSignal makes the kernel SIGKILL the child when its parent
// dies, however it dies.
func setParentDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }

// keepParentDeathSignal runs change, which changes the credentials of
// the process, and then restores the calling thread's parent-death
// signal, which the kernel clears on such a change. A parent that died
// in between gets the signal delivered at once, as os.StartProcess does
// after its own credential change.
func keepParentDeathSignal(change func() error) error {
	var sig int32
	if err := unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&sig)), 0, 0, 0); err != nil {
		return err
	}
	ppid := os.Getppid()
	if err := change(); err != nil || sig == 0 {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(sig), 0, 0, 0); err != nil {
		return err
	}
	if os.Getppid() != ppid {
		return unix.Kill(os.Getpid(), syscall.Signal(sig))
	}
	return nil
}

// Linux sends the parent-death signal when the *thread* that forked the
// child exits, not the process. Go may end a thread (a goroutine that
// exits while locked to its thread takes the thread with it), so children
// with a parent-death signal are forked from one thread that lives as long
// as the process: the spawner. Go forks one child at a time anyway
// (syscall.ForkLock), so funnelling them through one thread costs a
// channel hand-off and no parallelism.
var spawner struct {
	once sync.Once
	reqs chan *spawnRequest
}

type spawnRequest struct {
	path string
	argv []string
	attr *os.ProcAttr
	proc *os.Process
	err  error
	done chan struct{}
}

var spawnRequests = sync.Pool{New: func() any { return &spawnRequest{done: make(chan struct{}, 1)} }}

// startProcess is the one call that creates child processes.
func startProcess(path string, argv []string, attr *os.ProcAttr) (*os.Process, error) {
	closeOnExecAll()
	if attr.Sys == nil || attr.Sys.Pdeathsig == 0 {
		return os.StartProcess(path, argv, attr)
	}
	spawner.once.Do(func() {
		spawner.reqs = make(chan *spawnRequest)
		go spawnerThread(spawner.reqs)
	})
	r := spawnRequests.Get().(*spawnRequest)
	r.path, r.argv, r.attr = path, argv, attr
	spawner.reqs <- r
	<-r.done
	proc, err := r.proc, r.err
	*r = spawnRequest{done: r.done}
	spawnRequests.Put(r)
	return proc, err
}

// spawnerThread owns a thread for good and forks every child from it.
func spawnerThread(reqs <-chan *spawnRequest) {
	runtime.LockOSThread() // never unlocked: the thread must outlive every child
	for r := range reqs {
		r.proc, r.err = os.StartProcess(r.path, r.argv, r.attr)
		r.done <- struct{}{}
	}
}

// canSetGroups reports whether this process may call setgroups(2): it has
// CAP_SETGID.
func canSetGroups() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return os.Geteuid() == 0
	}
	return data[0].Effective&(1<<unix.CAP_SETGID) != 0
}

// maxRSS returns the peak RSS in bytes; Linux counts it in KiB.
func maxRSS(state *os.ProcessState) int64 {
	if ru, ok := state.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

// selfExe names the running binary; /proc/self/exe works even if the file
// was replaced or removed since.
func selfExe() (string, error) { return "/proc/self/exe", nil }

// pipe2 makes a close-on-exec pipe in one call.
func pipe2() (r, w int, err error) {
	var p [2]int
	err = syscall.Pipe2(p[:], syscall.O_CLOEXEC)
	return p[0], p[1], err
}

// closeOnExecAll marks every descriptor from 3 up close-on-exec, so that a
// child gets exactly the descriptors it is given. Go opens everything
// close-on-exec already; this catches descriptors the process inherited
// without it, or that code outside Go's os and net packages opened. The
// descriptors handed to the child are unaffected: os.StartProcess moves
// them into place and clears the flag on the copies. One close_range(2)
// call (Linux 5.11); on older kernels nothing is done.
func closeOnExecAll() {
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
}
