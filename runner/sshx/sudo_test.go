package sshx_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
)

// fakeSudo is a test fixture standing in for sudo on the test server (the
// tests run as one local user): it checks the password line read from
// stdin against $FAKE_SUDO_DIR/password, or, with nopasswd present, needs
// none; it logs each call's mode to $FAKE_SUDO_DIR/log.
const fakeSudo = `#!/bin/sh
n=0 S=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=1 ;; -S) S=1 ;; -k) ;; -p) shift ;; --) shift; break ;; -*) ;; *) break ;;
  esac
  shift
done
d=$FAKE_SUDO_DIR
if [ -e "$d/nopasswd" ]; then
  echo "nopasswd n=$n S=$S" >>"$d/log"
  exec "$@"
fi
if [ $S = 1 ]; then
  IFS= read -r pw || { echo "sudo: no password" >&2; exit 1; }
  if [ "$pw" != "$(cat "$d/password")" ]; then echo "sudo: incorrect password" >&2; exit 1; fi
  echo "password ok" >>"$d/log"
  exec "$@"
fi
echo "sudo: a password is required" >&2
exit 1
`

// sudoFixture is a server whose PATH starts with the fake sudo.
func sudoFixture(t *testing.T, password string, nopasswd bool) (*fixture, string) {
	t.Helper()
	bin, dir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(bin, "sudo"), fakeSudo, 0o755)
	writeFile(t, filepath.Join(dir, "password"), password+"\n", 0o600)
	if nopasswd {
		writeFile(t, filepath.Join(dir, "nopasswd"), "", 0o600)
	}
	return newFixture(t, sshtest.WithPath(bin), sshtest.WithEnv("FAKE_SUDO_DIR="+dir)), dir
}

func TestBecomeWithPasswordNeverOnCommandLine(t *testing.T) {
	const password = `s3cr3t 'pw' "$x"`
	f, dir := sudoFixture(t, password, false)
	c := dialSudo(t, f, password)
	for range 2 {
		res := run(t, c, executor.Command{Script: "echo become:$TOKEN; cat", Become: true,
			Env: map[string]string{"TOKEN": "t0k"}, Stdin: strings.NewReader("input")})
		if string(res.Stdout) != "become:t0k\ninput" || !res.OK() {
			t.Fatalf("got stdout %q stderr %q exit %d", res.Stdout, res.Stderr, res.ExitCode)
		}
	}
	if got := readFile(t, filepath.Join(dir, "log")); got != "password ok\npassword ok\n" {
		t.Errorf("sudo log %q", got)
	}
	cmds := f.srv.Commands()
	for _, line := range cmds {
		if strings.Contains(line, "s3cr3t") || strings.Contains(line, "t0k") {
			t.Errorf("command line leaks a secret: %q", line)
		}
	}
	// One probe, then the two steps.
	if len(cmds) != 3 || !strings.Contains(cmds[0], "sudo -k -n true") {
		t.Errorf("commands: %q", cmds)
	}
}

func TestBecomeWrongPasswordFailsWithoutLeaking(t *testing.T) {
	f, _ := sudoFixture(t, "right", false)
	c := dialSudo(t, f, "wrong-pw")
	res, err := c.Run(context.Background(), executor.Command{Script: "echo ran", Become: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || strings.Contains(string(res.Stdout), "ran") {
		t.Fatalf("ran without the right password: %+v", res)
	}
	if out := string(res.Stdout) + string(res.Stderr); strings.Contains(out, "wrong-pw") {
		t.Errorf("output leaks the password: %q", out)
	}
}

func TestBecomeNoPasswordNeeded(t *testing.T) {
	f, dir := sudoFixture(t, "unused", true)
	c := dialSudo(t, f, "unused")
	res := run(t, c, executor.Command{Script: "echo ok", Become: true})
	if string(res.Stdout) != "ok\n" {
		t.Fatalf("got %+v", res)
	}
	// The probe ran sudo -n too; the step must not have sent a password.
	if got := readFile(t, filepath.Join(dir, "log")); got != "nopasswd n=1 S=0\nnopasswd n=1 S=0\n" {
		t.Errorf("sudo log %q", got)
	}
}

func TestBecomeAsRootSkipsSudo(t *testing.T) {
	f, dir := sudoFixture(t, "pw", false)
	cfg := f.config()
	cfg.User = "root"
	c := dial(t, cfg)
	res := run(t, c, executor.Command{Script: "echo ok", Become: true})
	if string(res.Stdout) != "ok\n" {
		t.Fatalf("got %+v", res)
	}
	for _, line := range f.srv.Commands() {
		if strings.Contains(line, "sudo") {
			t.Errorf("root used sudo: %q", line)
		}
	}
	if exists(filepath.Join(dir, "log")) {
		t.Error("fake sudo was called")
	}
}
