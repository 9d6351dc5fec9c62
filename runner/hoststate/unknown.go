package hoststate

import "fmt"

// UnknownError is returned by a read that check mode cannot answer: What
// was read, and Because says what made it unknown.
type UnknownError struct {
	What    string
	Because string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("%s is unknown in check mode: %s", e.What, e.Because)
}

// Value stands for a registered value that check mode cannot know (the
// output of a command that would run). Templates must never see one: the
// engine finds every read of it before rendering and reports the task as
// unknown instead.
type Value struct {
	// Because names the value's origin: "it comes from task \"probe\",
	// whose command runs only in the real run".
	Because string
}

func (v Value) String() string { return "(unknown in check mode)" }
