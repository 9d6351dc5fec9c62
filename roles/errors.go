package roles

import (
	"fmt"
	"github.com/ferry-deploy/ferry/internal/fileerr"
	"github.com/ferry-deploy/ferry/internal/suggest"
)

// Error is a role that cannot be loaded: ferry's one file:line error,
// naming the file and line at fault (File is empty when the role itself
// was not found). Every load error is bad input (exit code 3): it is found
// before anything runs.
type Error = fileerr.Error

var errorf = fileerr.Errorf

// didYouMean returns ` (did you mean "x"?)` for the candidate nearest to s,
// or "" when none is near.
func didYouMean(s string, candidates []string) string {
	if c := suggest.Closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}
