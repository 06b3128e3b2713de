package childproc

import (
	"strings"
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

// finishIO waits for the child's stdio to end, draining the pipes the user
// holds, within WaitDelay when one is set, or StopWaitDelay after a stop.
func (c *Child) finishIO() {
	for _, s := range c.borrowed {
		s.giveBack()
	}
	delay := c.stdioDelay()
	if len(c.streams) == 0 && len(c.copiers) == 0 && c.ch == nil && delay == 0 {
		c.ins.Wait()
		return
	}
	var drains sync.WaitGroup
	for _, s := range c.streams {
		if s.drainNow() {
			continue // at its end already: no goroutine needed
		}
		drains.Add(1)
		go func() {
			defer drains.Done()
			s.drain()
		}()
	}
	if delay == 0 && c.overflowed == nil {
		c.awaitIO(&drains)
		return
	}
	all := make(chan struct{})
	go func() {
		c.awaitIO(&drains)
		close(all)
	}()
	if !c.awaitWithin(all, delay) {
		return
	}
	c.cutStdio()
	// Drains and output copiers end once their pipes are cut; a copier
	// blocked in a caller's io.Writer or io.Reader cannot be interrupted
	// and is left to finish on its own, as in os/exec.
	drains.Wait()
	for _, cp := range c.copiers {
		cp.awaitCut()
	}
}

// stdioDelay is how long Wait waits for the stdio after the exit: 0 for
// no bound, WaitDelay, or StopWaitDelay (at most) after a stop.
func (c *Child) stdioDelay() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdioDelayLocked()
}

func (c *Child) stdioDelayLocked() time.Duration {
	d := c.set.WaitDelay
	if stopped := c.timedOut || c.aborted || c.overflow != ""; stopped && (d == 0 || d > StopWaitDelay) {
		d = StopWaitDelay
	}
	return d
}

// cutNote adds to the message of a stopped child's error that its stdio
// was cut.
func (c *Child) cutNote(msg string) string {
	head, tail, more := strings.Cut(msg, "\n")
	head += "; stdio still open " + c.stdioDelayLocked().String() + " after exit, cut"
	if more {
		head += "\n" + tail
	}
	return head
}

// awaitWithin waits for all to be closed, for at most delay (0: no
// bound) or StopWaitDelay after a MaxBuffer overflow that comes later.
// It reports whether the stdio must be cut.
func (c *Child) awaitWithin(all <-chan struct{}, delay time.Duration) bool {
	var expired <-chan time.Time
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		expired = t.C
	}
	overflowed := c.overflowed
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
func (c *Child) awaitIO(drains *sync.WaitGroup) {
	drains.Wait()
	for _, cp := range c.copiers {
		<-cp.done
	}
	c.ins.Wait()
	if c.ch != nil {
		<-c.ch.Disconnected()
	}
}

// cutStdio ends the child's stdio at once, as WaitDelay does: what the
// pipes hold is read without waiting and delivered, then they are closed,
// and so is the IPC channel.
func (c *Child) cutStdio() {
	c.mu.Lock()
	c.cutIO = true
	c.mu.Unlock()
	for _, s := range c.streams {
		s.cutOff()
	}
	for _, cp := range c.copiers {
		cp.cutOff()
	}
	if c.ch != nil {
		c.ch.Close()
	}
}
