package sshx_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// sessionConfig is the fixture's config with the persistent shell off.
func (f *fixture) sessionConfig() sshx.Config {
	cfg := f.config()
	cfg.NoPersistentShell = true
	return cfg
}

func TestShellMatchesSession(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 3<<10) // under the shell's request limit
	cases := []struct {
		name   string
		script string
		env    map[string]string
	}{
		{"trailing newline", "echo hello", nil},
		{"no trailing newline", "printf hello", nil},
		{"trailing newlines", `printf 'a\n\n\n'`, nil},
		{"script with trailing newlines", "echo x\n\n\n", nil},
		{"empty script", "", nil},
		{"empty output", "true", nil},
		{"stderr and exit 1", "echo out; echo err >&2; exit 1", nil},
		{"stderr without newline", "printf 'e1' >&2; printf o; printf 'e2' >&2", nil},
		{"exit 3", "exit 3", nil},
		{"not found 127", "ferry-no-such-command --flag", nil},
		{"syntax error", "foo(", nil},
		{"set -e", "set -e\nfalse\necho unreachable", nil},
		{"binary", `printf 'a\000b\377\r\n\000'`, nil},
		{"48 KiB env", `printf '%s' "$BIG"`, map[string]string{"BIG": big}},
		{"one MiB from a command", "head -c 1048576 /dev/zero | tr '\\000' x", nil},
		{"env quoting", `printf '[%s]' "$A" "$B" "$C"`, map[string]string{
			"A": `it's "q" $HOME ` + "`id` \\", "B": "line1\nline2\n\n", "C": "",
		}},
		{"marker-like output", "echo __ferry_00000000000000000000000000000000B\n" +
			"printf '__ferry_E0\\n__ferry_' >&2\necho '__ferry_t' E3", nil},
		{"loop variables hidden", `echo "${__ferry_s-u}${__ferry_t-u}${__ferry_l-u}${__ferry_p-u}$#"`, nil},
		{"stdin is empty", "cat; echo end", nil},
		{"state set", "cd /; export LEAK=1; umask 077; trap 'echo trapped' EXIT", nil},
		{"state not kept", `pwd; echo "${LEAK-none}"; umask`, nil},
		{"exit in a function", "f() { exit 4; }\nf\necho no", nil},
		{"stat", "p=/etc/hostname\nstat -c '%a %s' \"$p\"", nil},
	}
	// Each server runs commands in its own temp dir, replaced by DIR
	// where an output shows it.
	fs, fh := newFixture(t), newFixture(t)
	sess := dial(t, fs.sessionConfig())
	sh := dial(t, fh.config())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := executor.Command{Script: tc.script, Env: tc.env}
			want, err := sess.Run(context.Background(), cmd)
			if err != nil {
				t.Fatalf("session: %v", err)
			}
			got, err := sh.Run(context.Background(), cmd)
			if err != nil {
				t.Fatalf("shell: %v", err)
			}
			norm := func(b []byte, dir string) []byte { return bytes.ReplaceAll(b, []byte(dir), []byte("DIR")) }
			if !bytes.Equal(norm(got.Stdout, fh.srv.Dir), norm(want.Stdout, fs.srv.Dir)) {
				t.Errorf("stdout %q, session gave %q", trunc(got.Stdout), trunc(want.Stdout))
			}
			if !bytes.Equal(got.Stderr, want.Stderr) {
				t.Errorf("stderr %q, session gave %q", trunc(got.Stderr), trunc(want.Stderr))
			}
			if got.ExitCode != want.ExitCode {
				t.Errorf("exit %d, session gave %d", got.ExitCode, want.ExitCode)
			}
			if (got.Stdout == nil) != (want.Stdout == nil) || (got.Stderr == nil) != (want.Stderr == nil) {
				t.Errorf("nil-ness differs: shell %v %v, session %v %v",
					got.Stdout == nil, got.Stderr == nil, want.Stdout == nil, want.Stderr == nil)
			}
		})
	}
	if cmds := fh.srv.Commands(); len(cmds) != 1 {
		t.Errorf("shell client: %d exec requests, want 1: %q", len(cmds), cmds)
	}
	if n := len(fs.srv.Commands()); n != len(cases) {
		t.Errorf("session client: %d exec requests, want %d", n, len(cases))
	}
}

func trunc(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:200:200], "..."...)
	}
	return b
}

func TestShellReusesOneSession(t *testing.T) {
	f, c := connected(t)
	p := filepath.Join(t.TempDir(), "file")
	writeFile(t, p, "content\n", 0o640)
	for i := range 100 {
		fi, err := c.Stat(context.Background(), p, false)
		if err != nil || !fi.Exists || fi.Size != 8 {
			t.Fatalf("stat %d: %+v, %v", i, fi, err)
		}
		if res := run(t, c, executor.Command{Script: "echo " + itoa(i)}); string(res.Stdout) != itoa(i)+"\n" {
			t.Fatalf("run %d: %q", i, res.Stdout)
		}
	}
	if cmds := f.srv.Commands(); len(cmds) != 1 {
		t.Errorf("%d exec requests, want 1: %q", len(cmds), cmds)
	}
}

// TestShellTakesLargeRequests: a request of 300 kB (a batch of reads, a
// script with a long here-document) is read by the loop in one block and
// served by the same shell, trailing blank lines and all.
func TestShellTakesLargeRequests(t *testing.T) {
	f := newFixture(t)
	c := dial(t, f.config())
	body := strings.Repeat("0123456789abcdef", 300<<10/16)
	for i := range 3 {
		script := "cat <<'EOF'\n" + body + "\nEOF\necho " + itoa(i) + "\n\n\n"
		res := run(t, c, executor.Command{Script: script})
		if want := body + "\n" + itoa(i) + "\n"; string(res.Stdout) != want {
			t.Fatalf("request %d: %d bytes back, want %d: %q", i, len(res.Stdout), len(want), trunc(res.Stdout))
		}
	}
	if cmds := f.srv.Commands(); len(cmds) != 1 {
		t.Errorf("%d exec requests, want 1 (the shell): %q", len(cmds), cmds)
	}
}

func TestShellRootViaSudoNoPassword(t *testing.T) {
	f, dir := sudoFixture(t, "unused", true)
	c := dial(t, f.config()) // no sudo password: sudo -n
	for range 10 {
		if res := run(t, c, executor.Command{Script: "echo root", Become: true}); string(res.Stdout) != "root\n" {
			t.Fatalf("got %+v", res)
		}
		if res := run(t, c, executor.Command{Script: "echo user"}); string(res.Stdout) != "user\n" {
			t.Fatalf("got %+v", res)
		}
	}
	if got := readFile(t, filepath.Join(dir, "log")); got != "nopasswd n=1 S=0\n" {
		t.Errorf("sudo log %q, want one sudo -n for the root shell", got)
	}
	if cmds := f.srv.Commands(); len(cmds) != 2 {
		t.Errorf("commands: %q", cmds)
	}
}

func TestShellSudoRefusedFallsBack(t *testing.T) {
	f, _ := sudoFixture(t, "pw", false) // sudo wants a password; none configured
	c := dial(t, f.config())
	for range 3 {
		res := run(t, c, executor.Command{Script: "echo ran", Become: true})
		if res.OK() || !strings.Contains(string(res.Stderr), "a password is required") {
			t.Fatalf("got stdout %q stderr %q exit %d", res.Stdout, res.Stderr, res.ExitCode)
		}
	}
	// One failed root shell, then a session per step: no retrying the shell.
	if cmds := f.srv.Commands(); len(cmds) != 4 {
		t.Errorf("commands: %q", cmds)
	}
}

func TestShellConcurrentRuns(t *testing.T) {
	f, c := connected(t)
	concurrently(16, func(g int) {
		for i := range 10 {
			want := itoa(g) + "-" + itoa(i)
			res, err := c.Run(context.Background(), executor.Command{Script: `echo "$V"; echo "$V" >&2`,
				Env: map[string]string{"V": want}})
			if err != nil || string(res.Stdout) != want+"\n" || string(res.Stderr) != want+"\n" {
				t.Errorf("%s: %+v, %v", want, res, err)
			}
		}
	})
	if n := f.srv.Connections(); n != 1 {
		t.Errorf("%d connections", n)
	}
}

func TestShellCancelKillsAndRestarts(t *testing.T) {
	f, c := connected(t)
	run(t, c, executor.Command{Script: "true"})
	started := filepath.Join(t.TempDir(), "started")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, executor.Command{Script: "touch " + started + "\nsleep 30"})
		errc <- err
	}()
	waitFor(t, func() bool { return exists(started) })
	if n := len(f.srv.Commands()); n != 1 {
		t.Fatalf("the command did not go through the shell: %d exec requests", n)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if res := run(t, c, executor.Command{Script: "echo again"}); string(res.Stdout) != "again\n" {
		t.Fatalf("got %+v", res)
	}
	run(t, c, executor.Command{Script: "true"})
	if n := len(f.srv.Commands()); n != 2 {
		t.Errorf("%d exec requests, want 2 (the killed shell and its successor): %q", n, f.srv.Commands())
	}
}

func TestShellScriptHoldingTokenUsesSession(t *testing.T) {
	f, c := connected(t)
	run(t, c, executor.Command{Script: "true"})
	tok := sshx.ShellToken(c)
	if tok == "" {
		t.Fatal("no shell running")
	}
	script := "cat <<'EOF'\n" + tok + "\n" + tok + "B\nEOF"
	res := run(t, c, executor.Command{Script: script})
	if want := tok + "\n" + tok + "B\n"; string(res.Stdout) != want {
		t.Fatalf("stdout %q, want %q", res.Stdout, want)
	}
	if res := run(t, c, executor.Command{Script: "echo ok"}); string(res.Stdout) != "ok\n" {
		t.Fatalf("got %+v", res)
	}
	if n := len(f.srv.Commands()); n != 2 {
		t.Errorf("%d exec requests, want the shell and one session", n)
	}
}

func TestShellKilledFallsBack(t *testing.T) {
	_, c := connected(t)
	pid := strings.TrimSpace(string(run(t, c, executor.Command{Script: "echo $$"}).Stdout))
	// Killed between steps (from another session): the next step must
	// not fail.
	run(t, c, executor.Command{Script: "kill -KILL " + pid, Stdin: strings.NewReader("")})
	for i := range 3 {
		if res := run(t, c, executor.Command{Script: "echo " + itoa(i)}); string(res.Stdout) != itoa(i)+"\n" {
			t.Fatalf("after kill: %+v", res)
		}
	}
	// Killed during a step: an error, but not an unreachable host.
	_, err := c.Run(context.Background(), executor.Command{Script: "kill -KILL $$; sleep 1"})
	if err == nil || errors.Is(err, executor.ErrUnreachable) {
		t.Fatalf("shell killed mid-command: %v", err)
	}
	if res := run(t, c, executor.Command{Script: "echo back"}); string(res.Stdout) != "back\n" {
		t.Fatalf("got %+v", res)
	}
}

func TestShellKeepsSecretsOffTheCommandLine(t *testing.T) {
	f, c := connected(t)
	const secret = "s3cr3t-'\"$x-canary"
	for range 3 {
		res := run(t, c, executor.Command{Script: `printf '%s' "$TOKEN"`, Env: map[string]string{"TOKEN": secret}})
		if string(res.Stdout) != secret {
			t.Fatalf("got %q", res.Stdout)
		}
	}
	for _, line := range f.srv.Commands() {
		if strings.Contains(line, "canary") || strings.Contains(line, "TOKEN") || strings.Contains(line, "__ferry_") {
			t.Errorf("command line %q shows the request", line)
		}
	}
}

// dropFixture dials through a connection the test can cut.
func dropFixture(t *testing.T) (*fixture, *sshx.Client, func()) {
	f := newFixture(t)
	cfg := f.config()
	var conn net.Conn
	cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		conn = c
		return c, err
	}
	c := dial(t, cfg)
	return f, c, func() { conn.Close() }
}

func TestShellConnectionDropIsUnreachable(t *testing.T) {
	t.Run("between steps", func(t *testing.T) {
		_, c, drop := dropFixture(t)
		run(t, c, executor.Command{Script: "true"})
		drop()
		_, err := c.Run(context.Background(), executor.Command{Script: "true"})
		if !errors.Is(err, executor.ErrUnreachable) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("during a step", func(t *testing.T) {
		_, c, drop := dropFixture(t)
		run(t, c, executor.Command{Script: "true"})
		started := filepath.Join(t.TempDir(), "started")
		errc := make(chan error, 1)
		go func() {
			_, err := c.Run(context.Background(), executor.Command{Script: "touch " + started + "\nsleep 30"})
			errc <- err
		}()
		waitFor(t, func() bool { return exists(started) })
		drop()
		select {
		case err := <-errc:
			wantUnreachable(t, err, sshx.ReasonConnectionLost)
		case <-time.After(10 * time.Second):
			t.Fatal("Run hung on a dropped connection")
		}
	})
}

func benchmarkStat(b *testing.B, cfg func(*fixture) sshx.Config) {
	f := newFixture(b)
	c := dial(b, cfg(f))
	p := filepath.Join(b.TempDir(), "file")
	if err := os.WriteFile(p, []byte("content\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Stat(context.Background(), p, false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := c.Stat(context.Background(), p, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunSession and BenchmarkRunShell compare a Stat (one Run) per
// session with one through the persistent shell; run with -benchtime=200x.
func BenchmarkRunSession(b *testing.B) { benchmarkStat(b, (*fixture).sessionConfig) }

func BenchmarkRunShell(b *testing.B) { benchmarkStat(b, (*fixture).config) }

// TestShellSweepsKilledShellsFolders: a shell that sweeps removes the
// private folder a killed shell left (empty, unused for over an hour) and
// leaves a recent one, which may be a live shell's.
func TestShellSweepsKilledShellsFolders(t *testing.T) {
	if _, err := os.Stat("/dev/shm"); errors.Is(err, os.ErrNotExist) {
		t.Skip("no /dev/shm on this machine: the shells keep their folders elsewhere")
	} else if err != nil {
		t.Fatal(err)
	}
	sshx.SetSweepEvery(t, 1)
	stale, err := os.MkdirTemp("/dev/shm", ".ferry-sweeptest")
	if err != nil {
		t.Fatal(err)
	}
	recent, err := os.MkdirTemp("/dev/shm", ".ferry-sweeptest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(stale); os.Remove(recent) })
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	c := dial(t, f.config())
	run(t, c, executor.Command{Script: "true"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(stale); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale folder is still there")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("the recent folder: %v", err)
	}
}
