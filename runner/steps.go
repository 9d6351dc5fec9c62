package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/ferry-deploy/ferry/roles"
)

// Step is one task, loop item or handler of one host as a run planned it:
// what it read of the host and what it would change. A saved plan is the
// steps of a check run; `ferry apply` plans again and compares steps.
type Step struct {
	Kind string `json:"kind"` // "task" or "handler"
	Role string `json:"role"`
	Task string `json:"task"`
	Item string `json:"item,omitempty"`
	// N counts earlier steps with the same kind, role, task and item (a
	// loop may repeat an item), so that Key names one step.
	N      int    `json:"n,omitempty"`
	Status Status `json:"status"`
	// Change is the sha256 of the planned summary and diff: equal changes
	// have equal hashes, and a secret's content never shows.
	Change string `json:"change,omitempty"`
	// Summary is what the step would do, in words (masked by the writer of
	// a plan; not compared: Change is).
	Summary []string `json:"summary,omitempty"`
	// Reads are the host's files the step read, each with the sha256 of
	// what was read (predicted paths are not read: earlier steps say them).
	Reads []Read `json:"reads,omitempty"`
}

// Read is one read of host state.
type Read struct {
	What   string `json:"what"` // "stat PATH" or "read PATH"
	SHA256 string `json:"sha256"`
}

// Key names a step within its host's run.
func (s Step) Key() string {
	return fmt.Sprintf("%s %s : %s [%s] #%d", s.Kind, s.Role, s.Task, s.Item, s.N)
}

// Name is the step as a person reads it in a message.
func (s Step) Name() string {
	n := s.Role + " : " + s.Task
	if s.Kind == "handler" {
		n = s.Role + " : handler " + s.Task
	}
	if s.Item != "" {
		n += " (" + s.Item + ")"
	}
	return n
}

func changeHash(summary []string, diff string) string {
	h := sha256.New()
	h.Write([]byte(strings.Join(summary, "\n")))
	h.Write([]byte{0})
	h.Write([]byte(diff))
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readLog keeps the reads of one host since the last step.
type readLog struct {
	mu    sync.Mutex
	on    bool
	reads []Read
}

func (l *readLog) add(what string, content []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.reads = append(l.reads, Read{What: what, SHA256: sha256Hex(content)})
	}
}

func (l *readLog) take() []Read {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.reads
	l.reads = nil
	return r
}

// step builds the step an event stands for, with the reads since the last
// one, and hands it to Options.Steps.
func (e *Engine) step(hr *hostRun, ev Event, change string) Step {
	s := Step{Kind: ev.Kind, Role: ev.Role, Task: ev.Task, Item: ev.Item, Status: ev.Status, Change: change, Summary: ev.Summary}
	if hr.exec != nil {
		s.Reads = hr.exec.reads.take()
	}
	base := s.Key()
	s.N = hr.stepKeys[base]
	hr.stepKeys[base]++
	return s
}

// taskEvent reports a task or handler event and records its step.
func (e *Engine) taskEvent(hr *hostRun, ev Event, change string) {
	if hr.held != nil { // an attempt of a task with until: (taskkeys.go)
		*hr.held = append(*hr.held, heldEvent{ev, change})
		return
	}
	if ev.Status == StatusUnknown {
		hr.uncertain++ // block.go
	}
	s := e.step(hr, ev, change)
	if e.opts.Steps != nil {
		e.opts.Steps(hr.host.Name, s)
	}
	e.opts.Report.Event(ev)
}

// PlanDriftError stops a host whose plan no longer matches the saved one.
type PlanDriftError struct {
	Host, Step, What string
}

func (e *PlanDriftError) Error() string {
	return fmt.Sprintf("host %s, %s: %s differs from the saved plan; nothing more is changed on this host", e.Host, e.Step, e.What)
}

// expect asks Options.Expect whether the step about to be applied is the
// one the saved plan holds.
func (e *Engine) expect(hr *hostRun, t *roles.Task, kind, item string, changed bool, planned string) error {
	if t.ChangedWhen != nil {
		changed = *t.ChangedWhen
	}
	s := Step{Kind: kind, Role: t.Role.Name, Task: t.Name, Item: item, Status: StatusOK, Change: planned}
	if changed {
		s.Status = StatusChanged
	}
	if t.NoLog {
		s.Item = ""
	}
	s.N = hr.stepKeys[s.Key()]
	return e.opts.Expect(hr.host.Name, s)
}
