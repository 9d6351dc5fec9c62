package sshx_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// fixture is one test server plus a client key it trusts and a known_hosts
// file that trusts it.
type fixture struct {
	srv   *sshtest.Server
	key   *sshtest.Key
	keyF  string
	known string
}

func newFixture(t testing.TB, opts ...sshtest.Option) *fixture {
	t.Helper()
	key := sshtest.NewKey(t)
	srv := sshtest.New(t, append([]sshtest.Option{sshtest.WithAuthorizedKeys(key.Public)}, opts...)...)
	return &fixture{srv: srv, key: key, keyF: key.WriteFile(t, ""), known: srv.WriteKnownHosts(t)}
}

// config reaches the fixture as a non-root user, so that Become goes
// through sudo, isolated from the real ~/.ssh and agent.
func (f *fixture) config() sshx.Config {
	return sshx.Config{
		Host:           "web-01",
		Address:        f.srv.Host,
		Port:           f.srv.Port,
		User:           "deploy",
		PrivateKeys:    []string{f.keyF},
		KnownHostsFile: f.known,
		ConnectTimeout: 10 * time.Second,
		SSHConfigFile:  "none",
	}
}

// newFixtures starts n fixtures, one server each.
func newFixtures(t testing.TB, n int) []*fixture {
	t.Helper()
	fixtures := make([]*fixture, n)
	for i := range fixtures {
		fixtures[i] = newFixture(t)
	}
	return fixtures
}

// concurrently calls do(0) to do(n-1), each on its own goroutine, and
// waits for them all.
func concurrently(n int, do func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { do(i) })
	}
	wg.Wait()
}

// connected starts a fixture and dials it with its config.
func connected(t testing.TB, opts ...sshtest.Option) (*fixture, *sshx.Client) {
	t.Helper()
	f := newFixture(t, opts...)
	return f, dial(t, f.config())
}

func dial(t testing.TB, cfg sshx.Config) *sshx.Client {
	t.Helper()
	c, err := sshx.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialSudo dials f as its non-root user, with sudoPassword for become.
func dialSudo(t testing.TB, f *fixture, sudoPassword string) *sshx.Client {
	t.Helper()
	cfg := f.config()
	cfg.SudoPassword = sudoPassword
	return dial(t, cfg)
}

func run(t testing.TB, c *sshx.Client, cmd executor.Command) executor.Result {
	t.Helper()
	res, err := c.Run(context.Background(), cmd)
	if err != nil {
		t.Fatalf("Run(%q): %v", cmd.Script, err)
	}
	return res
}

// wantUnreachable ends the test unless err says the host is unreachable
// for reason.
func wantUnreachable(t testing.TB, err error, reason string) {
	t.Helper()
	if !errors.Is(err, executor.ErrUnreachable) || sshx.Reason(err) != reason {
		t.Fatalf("reason %q, err %v", sshx.Reason(err), err)
	}
}

// tempFiles lists the upload temp files left in dir.
func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.ferry-tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// waitFor awaits a side effect of a remote process, which the test cannot
// be notified of; it fails after a generous deadline.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
