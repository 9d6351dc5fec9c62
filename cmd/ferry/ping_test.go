package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/sshtest"
)

// pingEnv is an inventory of in-process SSH servers: web-01 and web-02
// answer, db-01's port is closed. The known_hosts file trusts web-01 and
// web-02 only when trustAll is set, else web-01 only.
type pingEnv struct {
	inv   string
	known string
	web   []*sshtest.Server
}

func newPingEnv(t *testing.T, trustAll bool) *pingEnv {
	t.Helper()
	// Keep the real ~/.ssh and agent out of the test.
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	f := sshtest.NewFleet(t, []string{"web-01", "web-02"})
	if !trustAll {
		f.TrustOnly("web-01")
	}
	web := []*sshtest.Server{f.Servers["web-01"], f.Servers["web-02"]}
	dir, known, closed := f.Dir, f.KnownHosts(), sshtest.ClosedPort(t)
	inv := filepath.Join(dir, "inventory.yml")
	yml := f.Connection("deploy", 5*time.Second) + `groups:
  web:
    hosts:
      web-01: {address: 127.0.0.1, port: ` + strconv.Itoa(web[0].Port) + `}
      web-02: {address: 127.0.0.1, port: ` + strconv.Itoa(web[1].Port) + `}
  db:
    hosts:
      db-01: {address: 127.0.0.1, port: ` + strconv.Itoa(closed) + `}
`
	if err := os.WriteFile(inv, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &pingEnv{inv: inv, known: known, web: web}
}

// ferry runs the CLI in-process (ferryRun) and returns its output and
// exit code.
func ferry(t *testing.T, args ...string) (string, int) {
	t.Helper()
	r := ferryRun(context.Background(), t, args...)
	return r.stdout, r.code
}

func pingLine(t *testing.T, out, host string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, host+" ") {
			return l
		}
	}
	t.Fatalf("no line for %s in:\n%s", host, out)
	return ""
}

func TestPingReportsEachHost(t *testing.T) {
	env := newPingEnv(t, true)
	out, code := ferry(t, "ping", "-i", env.inv)
	if code != exitUnreachable {
		t.Errorf("exit %d, want %d", code, exitUnreachable)
	}
	hostname, _ := os.Hostname()
	okLine := regexp.MustCompile(`^web-0[12] +ok +\S+ \S+ +\(` + regexp.QuoteMeta(hostname) + `\)$`)
	for _, h := range []string{"web-01", "web-02"} {
		if l := pingLine(t, out, h); !okLine.MatchString(l) {
			t.Errorf("line %q does not match %s", l, okLine)
		}
	}
	if l := pingLine(t, out, "db-01"); !regexp.MustCompile(`^db-01 +unreachable +refused +connect db-01 `).MatchString(l) {
		t.Errorf("db-01 line %q", l)
	}
	// Inventory order, one line each.
	if n := strings.Count(out, "\n"); n != 3 || strings.Index(out, "web-01") > strings.Index(out, "db-01") {
		t.Errorf("output:\n%s", out)
	}
}

func TestPingLimitAndExitZero(t *testing.T) {
	env := newPingEnv(t, true)
	out, code := ferry(t, "ping", "-i", env.inv, "--limit", "web", "--forks", "1")
	if code != exitOK || strings.Contains(out, "db-01") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	if env.web[0].Connections() != 1 || env.web[1].Connections() != 1 {
		t.Errorf("connections: %d, %d", env.web[0].Connections(), env.web[1].Connections())
	}
}

func TestPingHostKeys(t *testing.T) {
	env := newPingEnv(t, false)
	out, code := ferry(t, "ping", "-i", env.inv, "--limit", "web-02")
	if code != exitUnreachable || !strings.Contains(pingLine(t, out, "web-02"), "unreachable  host key") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	out, code = ferry(t, "ping", "-i", env.inv, "--limit", "web-02", "--accept-new-host-keys")
	if code != exitOK {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	b, err := os.ReadFile(env.known)
	if err != nil || !strings.Contains(string(b), env.web[1].KnownHostsLine()) {
		t.Errorf("known_hosts lacks web-02: %q, %v", b, err)
	}
}

func TestPingBadInput(t *testing.T) {
	env := newPingEnv(t, true)
	for _, args := range [][]string{
		{"ping", "-i", filepath.Join(t.TempDir(), "missing.yml")},
		{"ping"},
		{"ping", "-i", env.inv, "--forks", "0"},
		{"ping", "-i", env.inv, "--limit", "nosuchhost"},
	} {
		if _, code := ferry(t, args...); code != exitBadInput {
			t.Errorf("%q: exit %d, want %d", args, code, exitBadInput)
		}
	}
}
