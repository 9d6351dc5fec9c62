package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/savedplan"
)

const planRole = `tasks:
  - name: config
    copy: {content: "port={{ .port }}\n", dest: "{{ .root }}/app.conf", mode: "0640"}
  - name: limit line
    line: {path: "{{ .root }}/app.conf", line: "limit=5"}
  - name: probe
    command: {cmd: "cat {{ .root }}/app.conf"}
    register: probe
    changed_when: false
  - name: db password
    copy: {content: "password={{ .db_password }}\n", dest: "{{ .root }}/db.conf", mode: "0600", secret: true}
  - name: items
    copy: {content: "item\n", dest: "{{ .root }}/item-{{ .item }}"}
    loop: ["{{ .db_password }}"]
`

func newPlanSite(t *testing.T) (*site, string) {
	s := newSite(t, []string{"h1", "h2"})
	s.role("app", planRole, nil)
	inv := s.inventory("app", "vars: {port: 80}\nsecrets: secrets.yml\n")
	s.write("secrets.yml", "db_password: "+canaryPlan+"\n", 0o600)
	return s, inv
}

const canaryPlan = "canary-plan-Kx9-4711"

func TestSavedPlanRoundTrip(t *testing.T) {
	s, inv := newPlanSite(t)
	plan := filepath.Join(t.TempDir(), "site.plan")
	fresh := s.snapshot()
	r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--check", "--diff", "--out", plan)
	if r.code != 0 {
		t.Fatalf("deploy --check --out: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !maps.Equal(s.snapshot(), fresh) {
		t.Fatalf("planning changed the hosts: %v", s.snapshot())
	}
	text, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), canaryPlan) {
		t.Fatalf("the plan holds a secret in clear text:\n%s", text)
	}
	if sum := sha256.Sum256([]byte("password=" + canaryPlan + "\n")); strings.Contains(string(text), hex.EncodeToString(sum[:])) {
		t.Fatal("the plan holds the plain sha256 of a secret file, which can be looked up")
	}
	if fi, _ := os.Stat(plan); fi.Mode().Perm() != 0o600 {
		t.Errorf("plan mode %v, want 0600", fi.Mode().Perm())
	}

	// Drift h2 by hand: its copy task now plans another change.
	if err := os.WriteFile(filepath.Join(s.root("h2"), "app.conf"), []byte("edited by hand\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	drifted := s.snapshot()
	if len(drifted) < 3 {
		t.Fatalf("snapshot %v", drifted)
	}
	r = ferryRun(context.Background(), t, "apply", plan)
	if r.code != exitPlanStale {
		t.Fatalf("apply after drift: exit %d, want %d\n%s\n%s", r.code, exitPlanStale, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "h2") || !strings.Contains(r.stdout, "app : config") || !strings.Contains(r.stdout, "refused") {
		t.Errorf("refusal does not name host and task:\n%s", r.stdout)
	}
	after := s.snapshot()
	for p, v := range drifted {
		if strings.HasPrefix(p, "h2:") {
			if after[p] != v {
				t.Errorf("refused host h2 changed at %s", p)
			}
		}
	}
	conf, err := os.ReadFile(filepath.Join(s.root("h1"), "app.conf"))
	if err != nil || string(conf) != "port=80\nlimit=5\n" {
		t.Fatalf("h1 was not applied: %q %v", conf, err)
	}

	// A fresh plan applies cleanly, and applying it again changes nothing.
	r = ferryRun(context.Background(), t, "deploy", "-i", inv, "--check", "--out", plan)
	if r.code != 0 {
		t.Fatalf("second plan: exit %d\n%s", r.code, r.stderr)
	}
	r = ferryRun(context.Background(), t, "apply", plan)
	if r.code != 0 {
		t.Fatalf("apply of a fresh plan: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if conf, _ := os.ReadFile(filepath.Join(s.root("h2"), "app.conf")); string(conf) != "port=80\nlimit=5\n" {
		t.Fatalf("h2 after apply: %q", conf)
	}
}

func TestSavedPlanRefusesChangedInputs(t *testing.T) {
	s, inv := newPlanSite(t)
	plan := filepath.Join(t.TempDir(), "site.plan")
	fresh := s.snapshot()
	if r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--check", "--out", plan); r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	// A changed secret is a changed input, though the plan never held it.
	s.write("secrets.yml", "db_password: other\n", 0o600)
	r := ferryRun(context.Background(), t, "apply", plan)
	if r.code != exitPlanStale || !strings.Contains(r.stdout, "variables or roles changed") {
		t.Fatalf("apply with changed secrets: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !maps.Equal(s.snapshot(), fresh) {
		t.Fatalf("a refused plan changed the hosts: %v", s.snapshot())
	}
	// Other -e variables than the plan's.
	s.write("secrets.yml", "db_password: "+canaryPlan+"\n", 0o600)
	r = ferryRun(context.Background(), t, "apply", plan, "-e", "port=81")
	if r.code != exitPlanStale || !strings.Contains(r.stderr, "-e variables differ") {
		t.Fatalf("apply with other -e: exit %d\n%s", r.code, r.stderr)
	}
}

func TestSavedPlanTooOld(t *testing.T) {
	_, inv := newPlanSite(t)
	plan := filepath.Join(t.TempDir(), "site.plan")
	if r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--check", "--out", plan); r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(plan)
	var p savedplan.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	p.Created = p.Created.Add(-25 * time.Hour)
	if err := p.Write(plan); err != nil {
		t.Fatal(err)
	}
	r := ferryRun(context.Background(), t, "apply", plan)
	if r.code != exitPlanStale || !strings.Contains(r.stderr, "--max-age") {
		t.Fatalf("apply of a 25 h old plan: exit %d\n%s", r.code, r.stderr)
	}
	if r := ferryRun(context.Background(), t, "apply", plan, "--max-age", "48h"); r.code != 0 {
		t.Fatalf("apply with --max-age 48h: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestOutNeedsCheck(t *testing.T) {
	_, inv := newPlanSite(t)
	if r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--out", "x.plan"); r.code != exitBadInput {
		t.Fatalf("--out without --check: exit %d", r.code)
	}
}
