package runner

import "time"

// Status is the outcome of one task on one host.
type Status string

// Task outcomes, as Ansible users know them.
const (
	StatusOK          Status = "ok"
	StatusChanged     Status = "changed"
	StatusSkipped     Status = "skipped"
	StatusFailed      Status = "failed"
	StatusUnreachable Status = "unreachable"
	// StatusUnknown is check mode's answer for a task whose outcome it
	// cannot predict; the event's msg says which value was unknown and why.
	StatusUnknown Status = "unknown"
	// StatusRefused: ferry apply refused a host that no longer matches the
	// saved plan.
	StatusRefused Status = "refused"
)

// Event is one thing that happened during a run, streamed to a Reporter as it
// happens. Only the fields that matter for its Kind are set.
type Event struct {
	Kind    string   `json:"event"` // "play", "batch", "task", "handler", "host", "recap"
	Play    string   `json:"play,omitempty"`
	Host    string   `json:"host,omitempty"`
	Role    string   `json:"role,omitempty"`
	Task    string   `json:"task,omitempty"`
	Item    string   `json:"item,omitempty"`
	Status  Status   `json:"status,omitempty"`
	Summary []string `json:"summary,omitempty"`
	Diff    string   `json:"diff,omitempty"`
	Message string   `json:"msg,omitempty"`
	Hosts   []string `json:"hosts,omitempty"` // play and batch members
	// RoundTrips counts the executor calls the task cost on its host.
	RoundTrips int           `json:"round_trips,omitempty"`
	Duration   time.Duration `json:"-"`
	DurationMS int64         `json:"duration_ms,omitempty"`
}

// Reporter receives the events of a run. Implementations must be safe for
// concurrent use: hosts report from their own goroutines.
type Reporter interface {
	Event(Event)
	Recap(Recap)
}

// HostStats counts a host's task outcomes.
type HostStats struct {
	OK      int `json:"ok"`
	Changed int `json:"changed"`
	Failed  int `json:"failed"`
	// Ignored counts failures of tasks with ignore_errors: they do not
	// fail the run.
	Ignored int `json:"ignored,omitempty"`
	// Rescued counts failures a block\'s rescue: handled.
	Rescued     int  `json:"rescued,omitempty"`
	Skipped     int  `json:"skipped"`
	Unknown     int  `json:"unknown,omitempty"`
	Unreachable bool `json:"unreachable"`
	// Refused: the host no longer matched the saved plan being applied.
	Refused bool `json:"refused,omitempty"`
	// RoundTrips counts executor calls (each one SSH exchange), so that the
	// cost of a no-op run can be measured per task.
	RoundTrips int `json:"round_trips"`
	// Tasks counts task evaluations (loop items included).
	Tasks int `json:"tasks"`
}

// Recap is the summary of a whole run; its JSON form is ferry's contract:
// {"event":"recap","hosts":{...},"changed":N,"failed":N,"duration_ms":N}.
type Recap struct {
	Event       string                `json:"event"`
	Hosts       map[string]*HostStats `json:"hosts"`
	Changed     int                   `json:"changed"`
	Failed      int                   `json:"failed"`
	Unknown     int                   `json:"unknown,omitempty"`
	Unreachable int                   `json:"unreachable"`
	Refused     int                   `json:"refused,omitempty"`
	Check       bool                  `json:"check"`
	Interrupted bool                  `json:"interrupted,omitempty"`
	DurationMS  int64                 `json:"duration_ms"`
	// Shard is "I/N" for a run of deploy --shard, so that merging the
	// recaps can tell a missing shard.
	Shard string `json:"shard,omitempty"`
}
