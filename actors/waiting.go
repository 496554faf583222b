package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// waitingCall is a call held until its server is ready.
type waitingCall struct {
	msg    *CallTool
	sender *actor.PID
}

// waitList holds calls until their server is ready, with one timer armed
// for the earliest deadline so that each call fails on time. It belongs to
// one actor and is used only from that actor's Receive.
type waitList struct {
	calls []waitingCall
	timer *time.Timer
	at    time.Time
}

// add holds a call and makes sure a wake-up (expireWaiting{id} to self)
// comes at or before its deadline.
func (w *waitList) add(d *deps, self *actor.PID, id string, c waitingCall) {
	w.calls = append(w.calls, c)
	if w.timer != nil && !c.msg.Deadline.Before(w.at) {
		return
	}
	w.stopTimer()
	w.at = c.msg.Deadline
	w.timer = time.AfterFunc(time.Until(w.at), func() { d.root.Send(self, &expireWaiting{ID: id}) })
}

// expire removes the calls whose deadline has passed, answers each with
// errFor(call), and re-arms the timer for the rest.
func (w *waitList) expire(d *deps, self *actor.PID, id string, errFor func() error) {
	now := time.Now()
	kept := w.calls[:0]
	for _, c := range w.calls {
		if now.Before(c.msg.Deadline) {
			kept = append(kept, c)
		} else {
			d.reply(c.sender, errFor())
		}
	}
	w.calls = kept
	w.stopTimer()
	if len(kept) == 0 {
		return
	}
	earliest := kept[0].msg.Deadline
	for _, c := range kept[1:] {
		if c.msg.Deadline.Before(earliest) {
			earliest = c.msg.Deadline
		}
	}
	w.at = earliest
	w.timer = time.AfterFunc(time.Until(earliest), func() { d.root.Send(self, &expireWaiting{ID: id}) })
}

// take empties the list and stops its timer, returning the calls.
func (w *waitList) take() []waitingCall {
	w.stopTimer()
	calls := w.calls
	w.calls = nil
	return calls
}

// failAll answers every held call with err.
func (w *waitList) failAll(d *deps, err error) {
	for _, c := range w.take() {
		d.reply(c.sender, err)
	}
}

func (w *waitList) stopTimer() {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// len is how many calls wait.
func (w *waitList) len() int { return len(w.calls) }
