package roles

import (
	"fmt"
	"github.com/ferry-deploy/ferry/internal/suggest"
	"strconv"
)

// Error is a role that cannot be loaded: it names the file and line at
// fault. Every load error is bad input (exit code 3): it is found before
// anything runs.
type Error struct {
	// File is the file shown to the user ("roles/nginx/role.yml",
	// "builtin:nginx/templates/nginx.conf.tmpl"); empty when the role
	// itself was not found.
	File string
	// Line counts from 1; 0 when the error concerns the whole file.
	Line int
	Msg  string
	// Err is the underlying error (a template syntax error, an I/O error).
	Err error
}

func (e *Error) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line <= 0:
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// ExitCode is 3, ferry's exit code for bad input.
func (e *Error) ExitCode() int { return 3 }

func errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// didYouMean returns ` (did you mean "x"?)` for the candidate nearest to s,
// or "" when none is near.
func didYouMean(s string, candidates []string) string {
	if c := suggest.Closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}
