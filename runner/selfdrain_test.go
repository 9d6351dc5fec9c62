package runner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner"
)

// withSelfDrain rewrites the lab's inventory so that group site rolls one
// host at a time and drains itself with command.
func withSelfDrain(t *testing.T, l *lab, command string) {
	t.Helper()
	withSiteKeys(t, l, "    serial: 1\n    max_fail_percentage: 0\n    drain: {command: "+command+"}\n")
}

// withSiteKeys adds keys (YAML lines) to group site of the lab's inventory.
func withSiteKeys(t *testing.T, l *lab, keys string) {
	t.Helper()
	path := filepath.Join(l.dir, "inventory.yml")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Replace(string(text), "    roles: [site]\n", "    roles: [site]\n"+keys, 1)
	if out == string(text) {
		t.Fatal("no roles line in the lab inventory")
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if l.inv, err = inventory.Load(path); err != nil {
		t.Fatal(err)
	}
}

// drainScript writes a drain command that logs its argument and fails on
// the arguments listed in fail.
func drainScript(t *testing.T, dir, fail string) (cmd, log string) {
	t.Helper()
	cmd, log = filepath.Join(dir, "handover"), filepath.Join(dir, "handover.log")
	script := "#!/bin/sh\necho \"$1\" >> " + log + "\ncase \"$1\" in " + fail + ") echo \"$1 refused\" >&2; exit 1;; esac\n"
	if fail == "" {
		script = "#!/bin/sh\necho \"$1\" >> " + log + "\n"
	}
	if err := os.WriteFile(cmd, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return cmd, log
}

// hostTimeline lists a host's drain messages and changed tasks in order.
func hostTimeline(rec *recorder, host string) []string {
	var out []string
	for _, ev := range rec.events {
		if ev.Host != host {
			continue
		}
		switch {
		case ev.Kind == "drain":
			out = append(out, "drain: "+ev.Message)
		case ev.Status == runner.StatusChanged:
			out = append(out, "changed")
		}
	}
	return out
}

// TestSelfDrainWrapsChanges: each host runs `COMMAND release` before its
// first change and `COMMAND return` after its play, one host at a time; a
// converged host runs neither.
func TestSelfDrainWrapsChanges(t *testing.T) {
	l := newLab(t, 2, "site")
	cmd, log := drainScript(t, l.dir, "")
	withSelfDrain(t, l, cmd)
	rec, _ := mustDeploy(t, l, runOpts{})
	for _, h := range []string{"h01", "h02"} {
		tl := hostTimeline(rec, h)
		if len(tl) < 3 || !strings.HasPrefix(tl[0], "drain: out of service by "+cmd+" release") ||
			tl[1] != "changed" || tl[len(tl)-1] != "drain: healthy and back in rotation" {
			t.Errorf("%s: %q, want the release, the changes, then the return", h, tl)
		}
	}
	got, _ := os.ReadFile(log)
	if string(got) != "release\nreturn\nrelease\nreturn\n" {
		t.Errorf("drain command calls %q, want release and return per host in turn", got)
	}
	os.Remove(log)
	mustDeploy(t, l, runOpts{})
	if got, err := os.ReadFile(log); err == nil {
		t.Errorf("a converged run drained: %q", got)
	}
}

// TestSelfDrainRefused: a host whose release fails is not changed, and the
// rollout stops before the next host.
func TestSelfDrainRefused(t *testing.T) {
	l := newLab(t, 2, "site")
	cmd, _ := drainScript(t, l.dir, "release")
	withSelfDrain(t, l, cmd)
	rec, rc, _ := l.deploy(runOpts{})
	if rc.Failed == 0 {
		t.Error("no host failed")
	}
	if got := rec.changed(); len(got) != 0 {
		t.Errorf("changed despite the refused release: %v", got)
	}
	var msg string
	for _, ev := range rec.events {
		if ev.Host == "h01" && ev.Status == runner.StatusFailed {
			msg += ev.Message
		}
	}
	if !strings.Contains(msg, "release refused") {
		t.Errorf("h01's failure does not carry the command's message: %q", msg)
	}
	if _, err := os.Stat(filepath.Join(l.roots["h02"], "etc/site")); err == nil {
		t.Error("h02 was changed after h01's release failed")
	}
}

// TestSelfDrainFirstDeploy: a host without the command yet (its first
// deploy installs it) has nothing to hand over.
func TestSelfDrainFirstDeploy(t *testing.T) {
	l := newLab(t, 1, "site")
	withSelfDrain(t, l, filepath.Join(l.dir, "not-yet"))
	rec, _ := mustDeploy(t, l, runOpts{})
	if tl := hostTimeline(rec, "h01"); len(tl) == 0 || !strings.HasPrefix(tl[0], "drain: nothing to hand over yet") {
		t.Errorf("h01: %q", tl)
	}
}
