package runner

import (
	"sync"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// Warm reads: a host whose plan (planfirst.go) found a change still runs in
// its turn, task by task. The items its plan found ok or skipped, before
// the first one that was not, read what the plan's batches already brought:
// nothing changed the host in between but what would have changed those
// reads' answers in the plan too. From that first item on, every read goes
// to the host again, so each task that changes something reads the host
// right before it does. A one-file change thus costs the round trips of
// that file's task and what follows it, not one per task before it.

// warmReads answers a host's first items from its plan's batches.
type warmReads struct {
	answers map[readKey]executor.ReadAnswer

	mu      sync.Mutex
	items   int  // items still to be served
	serving bool // the current item is served
}

// newWarmReads serves the first items of a host from answers; nil when
// there is nothing to serve.
func newWarmReads(answers map[readKey]executor.ReadAnswer, items int) *warmReads {
	if items <= 0 || len(answers) == 0 {
		return nil
	}
	return &warmReads{answers: answers, items: items}
}

// itemStarted moves to the host's next item; past the served ones the
// answers are dropped.
func (w *warmReads) itemStarted() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.serving = w.items > 0
	if w.serving {
		w.items--
	} else {
		w.answers = nil
	}
}

// answer returns the plan's answer to r while the current item is served.
func (w *warmReads) answer(r executor.Read) (executor.ReadAnswer, bool) {
	if w == nil {
		return executor.ReadAnswer{}, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.serving {
		return executor.ReadAnswer{}, false
	}
	k, ok := keyOf(r)
	if !ok {
		return executor.ReadAnswer{}, false
	}
	a, ok := w.answers[k]
	return a, ok && !a.Skipped
}
