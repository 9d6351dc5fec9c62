// Package shell holds every POSIX-shell concern of ferry in one place:
// making a string one literal word of a script, and splitting a command
// line into words. Scripts that ferry sends to hosts are built from these,
// so a name, path or value never changes the meaning of the script it is
// put into.
package shell

import (
	"errors"
	"strings"
)

// Literal returns s as one single-quoted word, whatever it holds: the
// shell expands nothing inside single quotes, and a quote in s is closed,
// escaped and reopened ('\”). Use it where the word's shape must not
// depend on its content (template output, exported values).
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Quote returns s as one word, bare when every byte of it is one the shell
// gives no meaning to (so scripts stay readable), single-quoted otherwise.
func Quote(s string) string {
	if s != "" && isSafe(s) {
		return s
	}
	return Literal(s)
}

// QuoteAll quotes each word and joins them with blanks.
func QuoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}

// ErrNUL is returned for a string that holds a NUL byte: no shell word can
// carry one (the C strings of execve end there).
var ErrNUL = errors.New("cannot quote a string holding a NUL byte")

// CheckWord returns ErrNUL when s cannot be a shell word at all.
func CheckWord(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return ErrNUL
	}
	return nil
}

// isSafe reports whether s needs no quoting: letters, digits and
// @%+=:,./_- only. '~' is left out (tilde expansion at a word's start).
func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("@%+=:,./_-", c) >= 0:
		default:
			return false
		}
	}
	return true
}
