package inventory

import (
	"fmt"
	"github.com/ferry-deploy/ferry/internal/fileerr"
	typo "github.com/ferry-deploy/ferry/internal/suggest"
	"sort"
	"strings"
)

// Error is one problem found in an inventory (or in a file it pulls in:
// group_vars, host_vars, the site file, the secrets file): ferry's one
// file:line error. Callers treat any Load error as bad input.
type Error = fileerr.Error

// ErrorList is returned when Load finds more than one problem, so that a user
// fixes them in one pass. errors.As(err, &*Error) finds the first.
type ErrorList []*Error

// Error lists every problem, one per line.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// problems collects errors while loading; parsing goes on after a problem
// where it can, so one run reports as much as possible.
type problems struct {
	list []*Error
}

func (p *problems) add(file string, line int, format string, args ...any) {
	p.list = append(p.list, &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) addErr(e *Error) { p.list = append(p.list, e) }

// err returns nil, the single *Error, or an ErrorList sorted by file and line.
func (p *problems) err() error {
	switch len(p.list) {
	case 0:
		return nil
	case 1:
		return p.list[0]
	}
	l := append(ErrorList(nil), p.list...)
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].File != l[j].File {
			return l[i].File < l[j].File
		}
		return l[i].Line < l[j].Line
	})
	return l
}

// suggest returns ` ; did you mean "x"?` for the closest candidate, or "" when
// nothing is close enough to be a likely typo.
func suggest(word string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		lw, lc := strings.ToLower(word), strings.ToLower(c)
		d := typo.Distance(lw, lc)
		// A cut-short word ("child" for "children") is a typo too.
		if len(lw) >= 3 && (strings.HasPrefix(lc, lw) || strings.HasPrefix(lw, lc)) {
			d = min(d, 1)
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// A third of the word (at least 1, at most 3 edits) separates typos from
	// different words.
	limit := min(max(len(word)/3, 1), 3)
	if best == "" || bestDist > limit {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}
