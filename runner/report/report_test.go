package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner"
)

// TestHumanClipsLongLines: a 1 MB command in a summary or an error is not
// printed whole; the start of the line and its length are.
func TestHumanClipsLongLines(t *testing.T) {
	var out bytes.Buffer
	rep, err := New("human", &out, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	long := "v='" + strings.Repeat("é", 1<<19) + "'"
	rep.Event(runner.Event{Kind: "task", Host: "h01", Role: "r", Task: "big", Status: runner.StatusFailed,
		Summary: []string{"run: " + long}, Message: "shell " + long + ": exit 1: boom\nsecond line"})
	for _, l := range strings.Split(out.String(), "\n") {
		if len(l) > maxLineBytes+100 {
			t.Errorf("a line of %d bytes was printed", len(l))
		}
	}
	if !strings.Contains(out.String(), "run: v='éé") || !strings.Contains(out.String(), "more bytes)") || !strings.Contains(out.String(), "second line") {
		t.Errorf("output:\n%.2000s", out.String())
	}
	if !strings.Contains(out.String(), "é") || strings.Contains(out.String(), "\uFFFD") {
		t.Error("a character was cut in half")
	}
}
