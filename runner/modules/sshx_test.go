package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/facts"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// sshTarget connects to an in-process SSH server (a real protocol
// implementation running commands on this machine) as root, so Become is
// a no-op and no sudo is needed.
func sshTarget(t *testing.T, opts ...sshtest.Option) (*Target, *recorder, *sshtest.Server) {
	t.Helper()
	key := sshtest.NewKey(t)
	srv := sshtest.New(t, append([]sshtest.Option{sshtest.WithAuthorizedKeys(key.Public)}, opts...)...)
	c, err := sshx.Dial(context.Background(), sshx.Config{
		Host: "web-01", Address: srv.Host, Port: srv.Port, User: "root",
		PrivateKeys: []string{key.WriteFile(t, "")}, KnownHostsFile: srv.WriteKnownHosts(t),
		ConnectTimeout: 10 * time.Second, SSHConfigFile: "none",
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	rec := &recorder{Executor: c}
	return &Target{Exec: rec, Facts: map[string]any{}, Become: true}, rec, srv
}

func TestModulesOverSSH(t *testing.T) {
	tg, rec, _ := sshTarget(t)
	f, err := facts.Gather(context.Background(), tg.Exec)
	if err != nil {
		t.Fatal(err)
	}
	if f["os_id"] == "" {
		t.Errorf("facts %v", f)
	}
	tg.Facts = f
	dir := t.TempDir()
	dest := filepath.Join(dir, "site.conf")
	writeFile(t, dest, []byte("listen 80;\n"), 0o644)
	c := converge(t, tg, rec, "template", map[string]any{"dest": dest, "content": "listen 8080;\n", "mode": "0640", "validate": "grep -q listen %s"})
	if !strings.Contains(c.Diff, "+listen 8080;") {
		t.Errorf("diff %q", c.Diff)
	}
	converge(t, tg, rec, "line", map[string]any{"path": dest, "line": "server_tokens off;"})
	converge(t, tg, rec, "file", map[string]any{"path": filepath.Join(dir, "d"), "state": "directory", "mode": "0700"})
	if b, _ := os.ReadFile(dest); string(b) != "listen 8080;\nserver_tokens off;\n" {
		t.Errorf("content %q", b)
	}
}

// TestMySQLUserCanaryOverSSH sends the password through the SSH executor's
// Env-over-stdin path to a stand-in mysql on the server's PATH.
func TestMySQLUserCanaryOverSSH(t *testing.T) {
	fake := newFakeMySQL(t)
	tg, rec, srv := sshTarget(t, sshtest.WithPath(fake.dir))
	fake.answer(1, "version\t8.0.36\nexists\tcaching_sha2_password\nnative_match\t0\nneed_login\t1\n", "", 0)
	fake.answer(2, "", "ERROR 1045 (28000): Access denied for user 'app'@'localhost' (using password: YES)\n", 1)
	c, err := newModule(t, "mysql_user", map[string]any{"name": "app", "password": canary}).Plan(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Changed || c.Summary[0] != "set password of mysql user 'app'@'%'" {
		t.Errorf("summary %v", c.Summary)
	}
	if !strings.Contains(fake.read("env", 2), "MYSQL_PWD="+canary) {
		t.Error("the login check did not get the password through the environment")
	}
	if !strings.Contains(fake.read("stdin", 1), canary) {
		t.Error("the comparison did not get the password on stdin")
	}
	seen := append(rec.scripts, srv.Commands()...)
	if len(srv.Commands()) == 0 {
		t.Error("the server recorded no exec requests")
	}
	for _, s := range append(seen, fake.read("args", 1), fake.read("args", 2)) {
		if strings.Contains(s, canary) {
			t.Errorf("password on a command line: %q", s)
		}
	}
}
