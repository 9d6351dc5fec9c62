package main

import (
	"context"
	"strings"
	"testing"
)

// TestEmptyLimitIsBadInput: `--limit ”` is refused before anything
// connects, for deploy and ping.
func TestEmptyLimitIsBadInput(t *testing.T) {
	s := newSite(t, []string{"h01"})
	s.role("touch", "tasks:\n  - name: mark\n    copy: {content: \"x\\n\", dest: \"{{ .root }}/mark\"}\n", nil)
	inv := s.inventory("touch", "")
	for _, args := range [][]string{
		{"deploy", "-i", inv, "--roles-path", s.dir + "/roles", "--limit", ""},
		{"deploy", "-i", inv, "--roles-path", s.dir + "/roles", "-l", " "},
		{"ping", "-i", inv, "--limit="},
	} {
		r := ferryRun(context.Background(), t, args...)
		if r.code != exitBadInput || !strings.Contains(r.stderr, "--limit") {
			t.Errorf("%v: exit %d, stderr %q; want %d naming --limit", args, r.code, r.stderr, exitBadInput)

		}
	}
	if n := s.Servers["h01"].Connections(); n != 0 {
		t.Errorf("%d connections for an empty --limit", n)
	}
}
