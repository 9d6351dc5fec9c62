package sshx_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

func TestRunEnvAndStdinStayOffTheCommandLine(t *testing.T) {
	f, c := connected(t)
	const secret = `pa$$ 'w"ord` + "\n2nd line"
	res := run(t, c, executor.Command{
		Script: `printf '%s|' "$SECRET"; cat; echo "|$PWD_SCRIPT_MARKER"`,
		Env:    map[string]string{"SECRET": secret, "PWD_SCRIPT_MARKER": "m"},
		Stdin:  strings.NewReader("from stdin"),
	})
	if want := secret + "|from stdin|m\n"; string(res.Stdout) != want || !res.OK() {
		t.Fatalf("stdout %q (stderr %q), want %q", res.Stdout, res.Stderr, want)
	}
	for _, line := range f.srv.Commands() {
		for _, leak := range []string{"pa$$", "2nd line", "printf", "SECRET", "from stdin"} {
			if strings.Contains(line, leak) {
				t.Errorf("command line %q shows %q", line, leak)
			}
		}
	}
	if len(f.srv.Commands()) != 1 {
		t.Errorf("commands: %q", f.srv.Commands())
	}
}

func TestRunRejectsBadEnvName(t *testing.T) {
	_, c := connected(t)
	_, err := c.Run(context.Background(), executor.Command{Script: "true", Env: map[string]string{"A;rm": "x"}})
	if err == nil || errors.Is(err, executor.ErrUnreachable) {
		t.Fatalf("want a bad input error, got %v", err)
	}
}

func TestRunSharesOneConnection(t *testing.T) {
	f, c := connected(t)
	concurrently(20, func(i int) {
		res, err := c.Run(context.Background(), executor.Command{Script: "echo " + itoa(i)})
		if err != nil || string(res.Stdout) != itoa(i)+"\n" {
			t.Errorf("run %d: %q, %v", i, res.Stdout, err)
		}
	})
	if n := f.srv.Connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestRunCancelSignalsRemote(t *testing.T) {
	_, c := connected(t)
	flag := filepath.Join(t.TempDir(), "terminated")
	started := filepath.Join(t.TempDir(), "started")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, executor.Command{Script: "trap 'echo TERM > " + flag + "; exit 1' TERM\n" +
			"touch " + started + "\nwhile :; do sleep 0.05; done"})
		errc <- err
	}()
	waitFor(t, func() bool { return exists(started) })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v", err)
	}
	waitFor(t, func() bool { return exists(flag) })
	// The connection survives a cancelled step.
	if res := run(t, c, executor.Command{Script: "echo still here"}); string(res.Stdout) != "still here\n" {
		t.Fatalf("got %+v", res)
	}
}

func TestConnectionLostIsUnreachable(t *testing.T) {
	f := newFixture(t, sshtest.WithDropOnSession(2))
	cfg := f.config()
	cfg.NoPersistentShell = true // a session per Run, so the second one drops
	c := dial(t, cfg)
	run(t, c, executor.Command{Script: "true"})
	_, err := c.Run(context.Background(), executor.Command{Script: "true"})
	wantUnreachable(t, err, sshx.ReasonConnectionLost)
	_, err = c.Run(context.Background(), executor.Command{Script: "true"})
	if !errors.Is(err, executor.ErrUnreachable) {
		t.Fatalf("after loss: %v", err)
	}
}
