package childproc

import (
	"sync"
	"time"
)

// StopWaitDelay bounds how long Wait waits for the stdio of a child that
// Timeout, abort or MaxBuffer stopped, once the child has exited (or, for
// MaxBuffer, once the buffer overflowed after the exit): grandchildren
// that escaped the stop and hold the pipes cannot hold up Wait, which
// returns at most ForceKillAfter plus StopWaitDelay after the stop. When
// it runs out the stdio is cut as WaitDelay cuts it ([Options.WaitDelay]
// applies instead when it is shorter).
const StopWaitDelay = time.Second

// finish waits for the child's stdio to end, draining the pipes the user
// holds, within delay (0: no bound) or StopWaitDelay after a MaxBuffer
// overflow that comes later; then it cuts what is left.
func (s *stdioSet) finish(delay time.Duration) {
	for _, str := range s.borrowed {
		str.giveBack()
	}
	if len(s.streams) == 0 && len(s.copiers) == 0 && s.ch == nil && delay == 0 {
		s.ins.Wait()
		return
	}
	var drains sync.WaitGroup
	for _, str := range s.streams {
		if str.drainNow() {
			continue // at its end already: no goroutine needed
		}
		drains.Add(1)
		go func() {
			defer drains.Done()
			str.drain()
		}()
	}
	if delay == 0 && s.overflowed == nil {
		s.awaitIO(&drains)
		return
	}
	all := make(chan struct{})
	go func() {
		s.awaitIO(&drains)
		close(all)
	}()
	if !s.awaitWithin(all, delay) {
		return
	}
	s.cutStdio()
	// Drains and output copiers end once their pipes are cut; a copier
	// blocked in a caller's io.Writer or io.Reader cannot be interrupted
	// and is left to finish on its own, as in os/exec.
	drains.Wait()
	for _, cp := range s.copiers {
		cp.awaitCut()
	}
}

// awaitWithin waits for all to be closed, for at most delay (0: no
// bound) or StopWaitDelay after a MaxBuffer overflow that comes later.
// It reports whether the stdio must be cut.
func (s *stdioSet) awaitWithin(all <-chan struct{}, delay time.Duration) bool {
	var expired <-chan time.Time
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		expired = t.C
	}
	overflowed := s.overflowed
	for {
		select {
		case <-all:
			return false
		case <-expired:
			return true
		case <-overflowed:
			overflowed = nil
			if expired == nil {
				t := time.NewTimer(StopWaitDelay)
				defer t.Stop()
				expired = t.C
			}
		}
	}
}

// awaitIO waits for every stdio of the child to end.
func (s *stdioSet) awaitIO(drains *sync.WaitGroup) {
	drains.Wait()
	for _, cp := range s.copiers {
		<-cp.done
	}
	s.ins.Wait()
	if s.ch != nil {
		<-s.ch.Disconnected()
	}
}

// cutStdio ends the child's stdio at once, as WaitDelay does: what the
// pipes hold is read without waiting and delivered, then they are closed,
// and so is the IPC channel.
func (s *stdioSet) cutStdio() {
	s.cutIO = true
	for _, str := range s.streams {
		str.cutOff()
	}
	for _, cp := range s.copiers {
		cp.cutOff()
	}
	if s.ch != nil {
		s.ch.Close()
	}
}
