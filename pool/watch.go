package pool

import (
	"sync"
	"time"
)

// handOffAfter is how long a task may run before its runner hands the
// turn to read on to another.
const handOffAfter = 100 * time.Microsecond

// watchPeriod is how soon a watch looks again while tasks keep coming;
// the wait doubles, up to maxWatchPeriod, while its looks find no task
// to hand on.
const (
	watchPeriod    = time.Millisecond
	maxWatchPeriod = 8 * time.Millisecond
)

// A watch hands the turn to read on when the runner that holds it has
// run one task for handOffAfter or more. It looks on a timer that a
// task sets when it begins and the timer is not set, handOffAfter
// ahead, and that stays set while tasks keep beginning, watchPeriod
// apart at first and up to maxWatchPeriod apart while every task it
// sees is quick: quick tasks that follow each other cost no timer each,
// and almost no wake-up (setting a timer, or its firing, wakes an idle
// thread of Go's runtime, which costs a quick task more than its work).
// A long task is handed on after handOffAfter when it is the first for
// a while, and after maxWatchPeriod at most otherwise.
type watch struct {
	handOff func() // gives the turn to an idle runner; called with mu held
	timer   *time.Timer

	mu      sync.Mutex
	seq     uint64        // tasks begun
	current uint64        // the seq of the task run by the runner holding the turn; 0 for none
	since   int64         // when current began (monoNow)
	began   bool          // a task began since the timer was last set
	set     bool          // the timer is set
	period  time.Duration // the wait before the next look
}

func newWatch(handOff func()) *watch {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &watch{handOff: handOff, timer: t}
}

// begin records that the runner holding the turn begins a task, and
// returns the task's seq for end.
func (w *watch) begin() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	w.current, w.since, w.began = w.seq, monoNow(), true
	if !w.set {
		w.set, w.period = true, watchPeriod
		w.timer.Reset(handOffAfter)
	}
	return w.seq
}

// end records that task seq ended and reports whether its runner still
// holds the turn.
func (w *watch) end(seq uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.current != seq {
		return false
	}
	w.current = 0
	return true
}

// run looks each time the timer fires, until done is closed.
func (w *watch) run(done <-chan struct{}) {
	for {
		select {
		case <-w.timer.C:
			w.look()
		case <-done:
			w.timer.Stop()
			return
		}
	}
}

// look hands the turn on if the current task has run for handOffAfter,
// and sets the timer again while tasks keep beginning.
func (w *watch) look() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.current != 0 && time.Duration(monoNow()-w.since) >= handOffAfter {
		w.current = 0
		w.handOff()
		w.period = watchPeriod
	} else {
		w.period = min(2*w.period, maxWatchPeriod)
	}
	if w.began || w.current != 0 {
		w.began = false
		w.timer.Reset(w.period)
		return
	}
	w.set = false
}
