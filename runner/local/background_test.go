package local

import (
	"context"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// TestBackgroundChildDoesNotHoldRun: a script that leaves a background
// child returns when the script ends, and its result is its own output.
func TestBackgroundChildDoesNotHoldRun(t *testing.T) {
	e := New(Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	res, err := e.Run(ctx, executor.Command{Script: "( sleep 0.3; echo STRAY; sleep 30 ) &\necho mine; echo err >&2"})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the background child held the run for %v", d)
	}
	if string(res.Stdout) != "mine\n" || string(res.Stderr) != "err\n" {
		t.Errorf("stdout %q stderr %q", res.Stdout, res.Stderr)
	}
}
