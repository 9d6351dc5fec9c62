package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/sshtest"
)

// runSite is a site of three in-process hosts in group "web" (a, b) and
// "db" (c), with no roles: `ferry run` needs none.
func runSite(t *testing.T, extraHosts string) (*site, string) {
	t.Helper()
	s := newSite(t, []string{"web-a", "web-b", "db-c"})
	var b strings.Builder
	b.WriteString(s.connection())
	b.WriteString("groups:\n  web:\n    hosts:\n")
	for _, n := range []string{"web-a", "web-b"} {
		fmt.Fprintf(&b, "      %s: {address: %s, port: %d, vars: {root: %q}}\n", n, s.Servers[n].Host, s.Servers[n].Port, s.root(n))
	}
	b.WriteString("  db:\n    hosts:\n")
	fmt.Fprintf(&b, "      db-c: {address: %s, port: %d, vars: {root: %q}}\n", s.Servers["db-c"].Host, s.Servers["db-c"].Port, s.root("db-c"))
	b.WriteString(extraHosts)
	return s, s.write("inventory.yml", b.String(), 0o644)
}

func TestRunCommandOutputPerHost(t *testing.T) {
	_, inv := runSite(t, "")
	r := ferryRun(context.Background(), t, "run", "web", "-i", inv, "--env", "N={{ .inventory_hostname }}", "--", `echo "I am $N"`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"---- web-a: exit 0\nI am web-a\n", "---- web-b: exit 0\nI am web-b\n", "2 ok, 0 failed, 0 unreachable\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "db-c") {
		t.Errorf("db-c is not in web:\n%s", r.stdout)
	}
}

func TestRunCollapsesIdenticalOutput(t *testing.T) {
	_, inv := runSite(t, "")
	r := ferryRun(context.Background(), t, "run", "all", "-i", inv, "--", "echo same; echo warn >&2")
	want := "---- web-a, web-b, db-c (3 hosts): exit 0\nsame\nstderr: warn\n3 ok, 0 failed, 0 unreachable\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", r.code, r.stdout, want)
	}
	r = ferryRun(context.Background(), t, "run", "all", "-i", inv, "--no-collapse", "--", "echo same")
	if n := strings.Count(r.stdout, "\nsame\n"); n != 3 || r.code != 0 {
		t.Fatalf("--no-collapse: %d blocks of output, exit %d:\n%s", n, r.code, r.stdout)
	}
}

func TestRunExitCodes(t *testing.T) {
	_, inv := runSite(t, "")
	r := ferryRun(context.Background(), t, "run", "all", "-i", inv, "--env", "N={{ .inventory_hostname }}", "--",
		`case $N in web-a) exit 0;; web-b) exit 3;; *) exit 1;; esac`)
	if r.code != exitFailed {
		t.Fatalf("exit %d, want 1:\n%s", r.code, r.stdout)
	}
	for _, want := range []string{"---- web-a: exit 0", "---- web-b: exit 3", "---- db-c: exit 1", "1 ok, 2 failed, 0 unreachable"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestRunUnreachableHostGivesTwo(t *testing.T) {
	_, inv := runSite(t, fmt.Sprintf("  down:\n    hosts:\n      gone-d: {address: 127.0.0.1, port: %d}\n", sshtest.ClosedPort(t)))
	r := ferryRun(context.Background(), t, "run", "all", "-i", inv, "-o", "json", "--", "echo up")
	if r.code != exitUnreachable {
		t.Fatalf("exit %d, want 2:\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := jsonLines(t, r.stdout)
	if len(lines) != 5 {
		t.Fatalf("want 4 host lines and a recap, got %d:\n%s", len(lines), r.stdout)
	}
	by := map[string]map[string]any{}
	for _, l := range lines[:4] {
		if l["event"] != "run" {
			t.Fatalf("event %v, want run: %v", l["event"], l)
		}
		by[l["host"].(string)] = l
	}
	for _, h := range []string{"web-a", "web-b", "db-c"} {
		if by[h]["status"] != "ok" || by[h]["stdout"] != "up\n" || by[h]["rc"] != float64(0) {
			t.Errorf("%s: %v", h, by[h])
		}
	}
	if d := by["gone-d"]; d["status"] != "unreachable" || d["msg"] == "" {
		t.Errorf("gone-d: %v", d)
	}
	if rc := lines[4]; rc["event"] != "recap" || rc["ok"] != float64(3) || rc["unreachable"] != float64(1) {
		t.Errorf("recap: %v", rc)
	}
}

func TestRunOneRoundTripPerHost(t *testing.T) {
	s, inv := runSite(t, "")
	r := ferryRun(context.Background(), t, "run", "all", "-i", inv, "--", "true")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	for _, n := range s.Names {
		if got := len(s.Servers[n].Commands()); got != 1 {
			t.Errorf("%s: %d commands reached the host, want 1: %q", n, got, s.Servers[n].Commands())
		}
		if got := s.Servers[n].Connections(); got != 1 {
			t.Errorf("%s: %d connections, want 1", n, got)
		}
	}
}

func TestRunSecretsMasked(t *testing.T) {
	s, _ := newSecretSite(t, "web-a", "web-b")
	inv := s.write("inventory.yml", s.connection()+"secrets: secrets.age\ngroups:\n  web:\n    hosts:\n"+s.hostLines("      "), 0o644)
	for _, out := range []string{"human", "json"} {
		r := ferryRun(context.Background(), t, "run", "web", "-i", inv, "-o", out, "--env", "PW={{ .db_password }}", "--",
			`echo "pw=$PW"; echo "err=$PW" >&2; exit 4`)
		if r.code != exitFailed {
			t.Fatalf("%s: exit %d\n%s%s", out, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "pw=********") {
			t.Errorf("%s: the command did not see the secret (or it was not masked):\n%s", out, r.stdout)
		}
		assertNoCanary(t, out+" stdout", r.stdout)
		assertNoCanary(t, out+" stderr", r.stderr)
	}
	// The -m form renders templates into module arguments; its diff masks too.
	dest := filepath.Join(s.root("web-a"), "x")
	r := ferryRun(context.Background(), t, "run", "web-a", "-i", inv, "-m", "copy", "-a", "dest="+dest+" content={{.db_password}}", "--check", "--diff")
	if r.code != 0 {
		t.Fatalf("-m copy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertNoCanary(t, "-m copy --diff", r.stdout+r.stderr)
	for _, n := range s.Names {
		for _, c := range s.Servers[n].Commands() {
			assertNoCanary(t, n+" command line", c)
		}
	}
	// A secret typed into the command itself is refused before anything runs.
	before := len(s.Servers["web-a"].Commands())
	r = ferryRun(context.Background(), t, "run", "web", "-i", inv, "--", "echo "+secretCanary)
	if r.code != exitBadInput || len(s.Servers["web-a"].Commands()) != before {
		t.Fatalf("secret on the command line: exit %d, commands %d -> %d", r.code, before, len(s.Servers["web-a"].Commands()))
	}
	assertNoCanary(t, "refusal", r.stdout+r.stderr)
}

func TestRunModuleCheckDiff(t *testing.T) {
	s, inv := runSite(t, "")
	dest := filepath.Join(s.root("web-a"), "x")
	r := ferryRun(context.Background(), t, "run", "web-a", "-i", inv, "-m", "copy", "-a", "dest="+dest+" content=y", "--check", "--diff")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "+y") || !strings.Contains(r.stdout, "changed") {
		t.Errorf("no diff shown:\n%s", r.stdout)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("--check created %s (%v)", dest, err)
	}
	r = ferryRun(context.Background(), t, "run", "web-a", "-i", inv, "-m", "copy", "-a", `{dest: "`+dest+`", content: "y\n"}`)
	if b, err := os.ReadFile(dest); r.code != 0 || err != nil || string(b) != "y\n" {
		t.Fatalf("real run: exit %d, %q %v\n%s", r.code, b, err, r.stdout)
	}
}

func TestRunBadInput(t *testing.T) {
	s, inv := runSite(t, "")
	cases := [][]string{
		{"run", "web", "-i", inv},
		{"run", "-i", inv, "--", "true"},
		{"run", "nosuch", "-i", inv, "--", "true"},
		{"run", "web", "extra", "-i", inv, "--", "true"},
		{"run", "web", "-i", inv, "-m", "copy", "--", "true"},
		{"run", "web", "-i", inv, "-m", "cpy", "-a", "dest=/tmp/x"},
		{"run", "web", "-i", inv, "-m", "copy", "-a", "dst=/tmp/x content=y"},
		{"run", "web", "-i", inv, "-m", "copy", "-a", "content=y"},
		{"run", "web", "-i", inv, "--env", "1X=y", "--", "true"},
		{"run", "web", "-i", inv, "--env", "X={{ .nosuch }}", "--", "true"},
		{"run", "web", "-i", inv, "--check", "--", "true"},
		{"run", "web", "-i", inv, "-o", "yaml", "--", "true"},
	}
	for _, args := range cases {
		r := ferryRun(context.Background(), t, args...)
		if r.code != exitBadInput {
			t.Errorf("%q: exit %d, want 3\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, n := range s.Names {
		if c := s.Servers[n].Commands(); len(c) > 0 {
			t.Errorf("%s ran %q on bad input", n, c)
		}
	}
	r := ferryRun(context.Background(), t, "run", "web", "-i", inv, "-m", "cpy", "-a", "dest=/tmp/x")
	if !strings.Contains(r.stderr, "did you mean copy") {
		t.Errorf("no suggestion for -m cpy: %s", r.stderr)
	}
}

func TestParseModuleArgs(t *testing.T) {
	got, err := parseModuleArgs(`name=nginx state=restarted enabled=true content="a b" other='c d' e=f\ g`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "nginx", "state": "restarted", "enabled": true, "content": "a b", "other": "c d", "e": "f g"}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("got %s, want %s", gb, wb)
	}
	for _, bad := range []string{"novalue", "a=1 a=2", `x="open`, "{not: [yaml"} {
		if _, err := parseModuleArgs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestFactsPerHost(t *testing.T) {
	_, inv := runSite(t, fmt.Sprintf("  down:\n    hosts:\n      gone-d: {address: 127.0.0.1, port: %d}\n", sshtest.ClosedPort(t)))
	r := ferryRun(context.Background(), t, "facts", "web", "-i", inv)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "HOST ") || !strings.Contains(lines[0], " INIT ") ||
		!strings.HasPrefix(lines[1], "web-a ") || !strings.HasPrefix(lines[2], "web-b ") {
		t.Fatalf("not a table of two hosts:\n%s", r.stdout)
	}
	// Every row has a value (or "-") under every column.
	if h, a := len(strings.Fields(lines[0])), len(strings.Fields(lines[1])); h != a {
		t.Errorf("header has %d columns, row %d:\n%s", h, a, r.stdout)
	}
	r = ferryRun(context.Background(), t, "facts", "all", "-i", inv, "-o", "json")
	if r.code != exitUnreachable {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.stdout)
	}
	lines = nil
	events := jsonLines(t, r.stdout)
	if len(events) != 4 {
		t.Fatalf("want 4 lines:\n%s", r.stdout)
	}
	for _, l := range events {
		facts, _ := l["facts"].(map[string]any)
		switch {
		case l["host"] == "gone-d":
			if l["status"] != "unreachable" || facts != nil {
				t.Errorf("gone-d: %v", l)
			}
		case l["status"] != "ok" || facts["init"] == nil:
			t.Errorf("%v: %v", l["host"], l)
		}
	}
}

func TestRunBecomeUser(t *testing.T) {
	if _, err := exec.LookPath("runuser"); err != nil {
		t.Skip("no runuser on this machine (util-linux): --become-user cannot run here")
	}
	_, inv := runSite(t, "")
	r := ferryRun(context.Background(), t, "run", "web-a", "-i", inv, "--become-user", "nobody", "--env", "X=it's", "--", `echo "$(id -un) $X"`)
	if r.code != 0 || !strings.Contains(r.stdout, "\nnobody it's\n") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// deploy's --diff set for every command (FERRY_DIFF, ferry.yaml) must not
// make a plain `ferry run` bad input; typed, it is.
func TestRunIgnoresModuleFlagsFromConfig(t *testing.T) {
	_, inv := runSite(t, "")
	t.Setenv("FERRY_DIFF", "true")
	if r := ferryRun(context.Background(), t, "run", "web-a", "-i", inv, "--", "true"); r.code != 0 {
		t.Fatalf("FERRY_DIFF=true: exit %d\n%s", r.code, r.stderr)
	}
	if r := ferryRun(context.Background(), t, "run", "web-a", "-i", inv, "--diff", "--", "true"); r.code != exitBadInput {
		t.Fatalf("--diff typed: exit %d", r.code)
	}
}
