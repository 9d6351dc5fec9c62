package runner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner"
)

// checkRole has a check (a read-only shell task) after a task that changes
// a fresh host; the check counts its runs in the host's root.
const checkRole = `tasks:
  - name: config
    copy: {content: "{{ .v }}\n", dest: "{{ .root }}/config"}
  - name: check
    shell: {cmd: "echo run >> {{ .root }}/checks"}
    changed_when: false
`

// TestFirstDeployIsNotPlannedFirst: a host ferry never deployed runs its
// first deploy in its turn only, so that its checks (which on a host not
// set up yet fail, or wait for services not installed) run once, not once
// more in a plan. A check-mode run does not count as a deploy; a real one
// leaves the mark, and the next deploy is planned first again: its no-op
// is settled by the plan, the check running once in it.
func TestFirstDeployIsNotPlannedFirst(t *testing.T) {
	l := newLab(t, 1, "site")
	l.writeRole("site", checkRole)
	root := l.roots["h01"]
	checks := func() int {
		b, _ := os.ReadFile(filepath.Join(root, "checks"))
		return strings.Count(string(b), "run")
	}
	marked := func() bool {
		_, err := os.Stat(filepath.Join(root, ".ferry", "deployed"))
		return err == nil
	}
	vars := map[string]any{"v": "one"}

	if _, rc, err := l.deploy(runOpts{extra: vars, check: true}); err != nil || rc.Failed != 0 {
		t.Fatalf("check run: %v %+v", err, rc)
	}
	if marked() {
		t.Error("a check-mode run marked the host deployed")
	}
	before := checks()

	if _, rc, err := l.deploy(runOpts{extra: vars}); err != nil || rc.Failed != 0 || rc.Changed != 1 {
		t.Fatalf("first deploy: %v %+v", err, rc)
	}
	if n := checks() - before; n != 1 {
		t.Errorf("first deploy ran the check %d times, want 1 (no plan first on a host never deployed)", n)
	}
	if !marked() {
		t.Fatal("a real deploy did not mark the host deployed")
	}

	rec, rc, err := l.deploy(runOpts{extra: vars})
	if err != nil || rc.Failed != 0 || rc.Changed != 0 {
		t.Fatalf("no-op: %v %+v", err, rc)
	}
	if n := checks() - before; n != 2 {
		t.Errorf("after the no-op the check ran %d times in all, want 2", n)
	}
	for _, ev := range rec.events {
		if ev.Kind == "task" && ev.RoundTrips != 0 {
			t.Errorf("no-op %s: %d round trips in its turn, want 0 (settled by the plan)", ev.Task, ev.RoundTrips)
		}
	}
}

// TestSettledHostIsLetGo: a host whose plan is empty gives its run lock
// back while the other hosts still run, instead of holding it (and its
// connection) until the run ends: another run may deploy it meanwhile.
// In the second run h02 has a change, and its probe waits, up to 5 s, for
// h01's holder file to go.
func TestSettledHostIsLetGo(t *testing.T) {
	l := newLab(t, 2, "site")
	h01 := l.roots["h01"]
	l.writeRole("site", "tasks:\n"+configThenLetGo(h01))
	rec, rc, err := changeConfigOf(t, l, "h02")
	if err != nil || rc.Failed != 0 || rc.Changed != 2 {
		t.Fatalf("h02 changes, h01 settled: %v %+v\n%s", err, rc, strings.Join(rec.changed(), "\n"))
	}
	for _, ev := range rec.events {
		if ev.Host == "h01" && ev.Kind == "task" && ev.Status != runner.StatusOK && ev.Status != runner.StatusSkipped {
			t.Errorf("h01 %s: %s", ev.Task, ev.Status)
		}
	}
	if _, err := os.Stat(filepath.Join(h01, ".ferry", "deployed")); err != nil {
		t.Errorf("h01 let go without its deployed mark: %v", err)
	}
}

// TestSettledHostLetGoServesADelegate: a settled host is let go early even
// when a task of another play delegates to it (the usual case: web servers
// that register themselves on a monitoring host with nothing to do), and
// the delegated task connects and locks it again: it runs there under
// this run's lock.
func TestSettledHostLetGoServesADelegate(t *testing.T) {
	l := newLab(t, 2, "site")
	web := splitLastHost(t, l, "web", "    roles: [web]\n", "")
	h01 := l.roots["h01"]
	l.writeRole("site", `tasks:
  - name: config
    copy: {content: "x\n", dest: "{{ .root }}/config"}
`)
	l.writeRole("web", "tasks:\n"+configThenLetGo(h01)+fmt.Sprintf(`  - name: on h01, under this run's lock
    shell: {cmd: "test -s %[1]s/.ferry/run.holder && echo ran >%[1]s/delegated"}
    delegate_to: h01
    when: .probe
`, h01))
	rec, rc, err := changeConfigOf(t, l, web)
	if err != nil || rc.Failed != 0 || rc.Unreachable != 0 {
		t.Fatalf("%s changes and delegates to settled h01: %v %+v\n%v", web, err, rc, rec.events)
	}
	if got := readFile(t, filepath.Join(h01, "delegated")); got != "ran\n" {
		t.Errorf("the delegated task on h01: %q", got)
	}
	if _, err := os.Stat(filepath.Join(h01, ".ferry", "run.holder")); !os.IsNotExist(err) {
		t.Errorf("h01's run lock is still held after the run: %v", err)
	}
}

// configThenLetGo is two tasks: a config file, then, in a run with probe
// set where the file changed, a wait of up to 5 s for the holder file in
// root's state folder to go (that host let go).
func configThenLetGo(root string) string {
	return fmt.Sprintf(`  - name: config
    copy: {content: "x\n", dest: "{{ .root }}/config"}
    register: cfg
  - name: settled host let go
    shell: {cmd: "i=0; while [ -e %[1]s/.ferry/run.holder ]; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.05; done"}
    when: and .probe .cfg.changed
`, root)
}

// changeConfigOf deploys the lab (probe off), removes host's config file
// and deploys again with probe on: the second run's outcome.
func changeConfigOf(t *testing.T, l *lab, host string) (*recorder, runner.Recap, error) {
	t.Helper()
	if _, rc, err := l.deploy(runOpts{extra: map[string]any{"probe": false}}); err != nil || rc.Failed != 0 {
		t.Fatalf("first deploy: %v %+v", err, rc)
	}
	if err := os.Remove(filepath.Join(l.roots[host], "config")); err != nil {
		t.Fatal(err)
	}
	return l.deploy(runOpts{extra: map[string]any{"probe": true}})
}
