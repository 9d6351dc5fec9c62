package runner

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// sudoLogger stands in for sudo on the test server (which runs every
// command as the test's user, root): it takes the password line with -S
// when $SUDO_T/password exists, and logs one line per call.
const sudoLogger = `#!/bin/sh
mode=n
while [ $# -gt 0 ]; do
  case "$1" in --) shift; break ;; -S) mode=S ;; -p) shift ;; -*) ;; *) break ;; esac
  shift
done
if [ -e "$SUDO_T/password" ]; then
  [ $mode = S ] || { echo "sudo: a password is required" >&2; exit 1; }
  IFS= read -r pw; [ "$pw" = "$(cat "$SUDO_T/password")" ] || exit 1
fi
echo "$mode" >>"$SUDO_T/log"
exec "$@"
`

// become_user over a login that is not root: without a sudo password,
// every command goes through the connection's one persistent root shell
// (one sudo for them all) and runuser drops to the user there; with a
// password, each command is a sudo -S session of its own, as become is.
func TestBecomeUserThroughSudo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runuser needs root: the in-process server runs commands as the test's user")
	}
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("no user nobody on this machine")
	}
	for _, password := range []string{"", "pw 'x'"} {
		bin, state := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(sudoLogger), 0o755); err != nil {
			t.Fatal(err)
		}
		if password != "" {
			if err := os.WriteFile(filepath.Join(state, "password"), []byte(password+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		key := sshtest.NewKey(t)
		srv := sshtest.New(t, sshtest.WithAuthorizedKeys(key.Public), sshtest.WithPath(bin), sshtest.WithEnv("SUDO_T="+state))
		c, err := sshx.Dial(context.Background(), sshx.Config{Host: "h", Address: srv.Host, Port: srv.Port, User: "deploy",
			PrivateKeys: []string{key.WriteFile(t, "")}, KnownHostsFile: srv.WriteKnownHosts(t),
			ConnectTimeout: 10 * time.Second, SSHConfigFile: "none", SudoPassword: password})
		if err != nil {
			t.Fatal(err)
		}
		as := asUser(c, "nobody")
		for range 3 {
			res, err := as.Run(context.Background(), executor.Command{Script: "id -un; echo $GREETING", Become: true,
				Env: map[string]string{"GREETING": "hello"}})
			if err != nil || strings.TrimSpace(string(res.Stdout)) != "nobody\nhello" {
				t.Fatalf("password %q: %q %q %v", password, res.Stdout, res.Stderr, err)
			}
		}
		c.Close()
		log, _ := os.ReadFile(filepath.Join(state, "log"))
		want := "n\n" // the persistent root shell, started once
		if password != "" {
			want = "S\nS\nS\n"
		}
		if string(log) != want {
			t.Errorf("password %q: sudo calls %q, want %q", password, log, want)
		}
	}
}
