// Package fileerr is the one error type for a problem at a place in a file
// ferry reads: an inventory (and the files it pulls in), a role, a
// template. Its text starts "file:line:", the form editors jump to.
package fileerr

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is one problem in a file.
type Error struct {
	// File is the file shown to the user ("hosts.yml",
	// "builtin:nginx/role.yml", a template's name); empty when there is no
	// file (a role that was not found).
	File string
	// Line counts from 1; 0 when the problem concerns the whole file.
	Line int
	// Key is the path of the value inside a rendered structure (a task's
	// arguments), if any.
	Key string
	Msg string
	// Err is the underlying cause, if any, so that errors.Is works
	// (fs.ErrNotExist for a missing file, a helper's error).
	Err error
}

// Error formats the problem as "file:line: [key: ]msg".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error at file:line with a formatted message.
func Errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}
