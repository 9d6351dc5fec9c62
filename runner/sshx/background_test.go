package sshx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// TestBackgroundChildOutputNotTaken: a script that leaves a background
// child writing to its output must not have that output taken as a later
// request's result, on the persistent shell or in sessions, and the child
// must not hold the request open.
func TestBackgroundChildOutputNotTaken(t *testing.T) {
	f := newFixture(t)
	for name, cfg := range map[string]func() sshx.Config{"shell": f.config, "session": f.sessionConfig} {
		t.Run(name, func(t *testing.T) {
			c := dial(t, cfg())
			start := time.Now()
			run(t, c, executor.Command{Script: "( for i in 1 2 3 4 5 6; do sleep 0.2; echo STRAY; echo STRAY >&2; done ) &\necho started"})
			if d := time.Since(start); d > 1*time.Second {
				t.Errorf("a background child held the request for %v", d)
			}
			// Requests that overlap the child's writes.
			for i := 0; i < 6; i++ {
				res := run(t, c, executor.Command{Script: "sleep 0.15; echo mine; echo err >&2"})
				if string(res.Stdout) != "mine\n" || string(res.Stderr) != "err\n" {
					t.Fatalf("request %d took output that is not its own: stdout %q stderr %q", i, res.Stdout, res.Stderr)
				}
			}
			// A child that never ends does not hold the request either.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := c.Run(ctx, executor.Command{Script: "sleep 300 &\necho detached", Stdin: strings.NewReader("")})
			if err != nil || string(res.Stdout) != "detached\n" {
				t.Errorf("detached child with stdin: %q, %v", res.Stdout, err)
			}
		})
	}
}

// TestDirectCommandWritesToItsSession: a Direct command of its own
// session (the run lock's holder) writes straight to the session's
// streams, where any other command's output goes through the frame's
// private files; both come back whole.
func TestDirectCommandWritesToItsSession(t *testing.T) {
	f := newFixture(t)
	c := dial(t, f.config())
	script := "cat; readlink /proc/self/fd/1; echo err >&2; exit 3"
	for _, direct := range []bool{false, true} {
		res := run(t, c, executor.Command{Script: script, Stdin: strings.NewReader("in\n"), Direct: direct})
		first, stdout, _ := strings.Cut(string(res.Stdout), "\n")
		if first != "in" || string(res.Stderr) != "err\n" || res.ExitCode != 3 {
			t.Errorf("direct %v: %+v", direct, res)
		}
		if isPipe := strings.HasPrefix(stdout, "pipe:"); isPipe != direct {
			t.Errorf("direct %v: the script's stdout is %q", direct, stdout)
		}
	}
}

// BenchmarkRunLargeScript runs a script carrying a 50 MB value (a shell
// task with a huge argument): the bootstrap reads it in one block.
func BenchmarkRunLargeScript(b *testing.B) {
	f := newFixture(b)
	c := dial(b, f.config())
	script := "v='" + strings.Repeat("x", 50<<20) + "'\necho ${#v}"
	for b.Loop() {
		res := run(b, c, executor.Command{Script: script})
		if strings.TrimSpace(string(res.Stdout)) != "52428800" {
			b.Fatalf("stdout %q", res.Stdout)
		}
	}
}
