package runner_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner"
)

// converged fails the test unless another real run changes nothing and
// check mode then reports nothing.
func converged(t *testing.T, l *lab, opts ...runOpts) {
	t.Helper()
	var o runOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	again, rc, err := l.deploy(o)
	if err != nil || rc.Changed != 0 || rc.Failed != 0 {
		t.Errorf("second run: %v, changed %v", err, again.changed())
	}
	o.check = true
	check, rc, err := l.deploy(o)
	if err != nil || rc.Changed != 0 || rc.Unknown != 0 || rc.Failed != 0 {
		t.Errorf("check after the run: %v, %v", err, check.byHost())
	}
}

// A delegated task runs over the delegate's connection (the in-process
// servers run their commands in their own folder, so pwd tells which one
// ran it) with the original host's variables, registers its result on the
// original host, and check mode plans on the delegate's predicted state.
func TestDelegateTo(t *testing.T) {
	l := newLab(t, 2, "dlg")
	l.writeRole("dlg", `tasks:
  - name: where it ran
    shell: {cmd: "pwd > {{ .root }}/where", creates: "{{ .root }}/where"}
    delegate_to: h01
    register: where
  - name: marker on the delegate
    copy: {content: "for {{ .inventory_hostname }}\n", dest: "{{ hostvar \"h01\" \"root\" }}/for-{{ .inventory_hostname }}"}
    delegate_to: '{{ "h01" }}'
  - name: result registered here
    copy: {content: "rc 0\n", dest: "{{ .root }}/rc"}
    when: eq .where.rc 0
`)
	check, _, err := l.deploy(runOpts{check: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"h01 marker on the delegate=changed", "h01 result registered here=changed", "h01 where it ran=changed",
		"h02 marker on the delegate=changed", "h02 result registered here=unknown", "h02 where it ran=changed"}
	// h01 delegates to itself: a plain task there. The command's rc is
	// known only in the real run, on both hosts. (Its when: reads it, so
	// check mode knows what it may write: only its dest, not all of h01,
	// which h02's delegated marker would then read as unknown.)
	want[1] = "h01 result registered here=unknown"
	if got := check.byHost(); !slices.Equal(got, want) {
		t.Errorf("check: %v\nwant %v", got, want)
	}
	real, rc, err := l.deploy(runOpts{})
	if err != nil || rc.Failed != 0 {
		t.Fatalf("deploy: %v %v", err, real.byHost())
	}
	for name, root := range l.roots {
		if got := readFile(t, filepath.Join(root, "where")); got != l.roots["h01"]+"\n" {
			t.Errorf("%s: ran in %q, want the delegate h01 (%s)", name, got, l.roots["h01"])
		}
		if got := readFile(t, filepath.Join(l.roots["h01"], "for-"+name)); got != "for "+name+"\n" {
			t.Errorf("%s: marker on h01: %q", name, got)
		}
		if got := readFile(t, filepath.Join(root, "rc")); got != "rc 0\n" {
			t.Errorf("%s: registered result: %q", name, got)
		}
	}
	converged(t, l)
}

// run_once with delegate_to: one host of the batch runs it, on the
// delegate, and every host registers its result (Ansible's pattern for a
// step done once per batch, such as a database migration).
func TestRunOnceDelegated(t *testing.T) {
	l := newLab(t, 3, "dlg")
	l.writeRole("dlg", `tasks:
  - name: once on h03
    shell: {cmd: "echo {{ .inventory_hostname }} $(pwd) >> {{ hostvar \"h03\" \"root\" }}/runs", creates: "{{ hostvar \"h03\" \"root\" }}/runs"}
    run_once: true
    delegate_to: h03
    register: once
  - name: everyone has it
    copy: {content: "rc {{ .once.rc }}\n", dest: "{{ .root }}/rc"}
`)
	real, rc, err := l.deploy(runOpts{})
	if err != nil || rc.Failed != 0 {
		t.Fatalf("deploy: %v %v", err, real.byHost())
	}
	// The first host of the batch runs it, on h03.
	if got := readFile(t, filepath.Join(l.roots["h03"], "runs")); got != "h01 "+l.roots["h03"]+"\n" {
		t.Errorf("runs: %q, want one run by h01 in h03's folder", got)
	}
	for name, root := range l.roots {
		if got := readFile(t, filepath.Join(root, "rc")); got != "rc 0\n" {
			t.Errorf("%s: registered %q", name, got)
		}
	}
	converged(t, l)
}

// delegate_to: localhost runs on the controller through the local
// executor, with no inventory host of that name.
func TestDelegateToController(t *testing.T) {
	l := newLab(t, 1, "dlg")
	out := filepath.Join(t.TempDir(), "controller")
	l.writeRole("dlg", `tasks:
  - name: on the controller
    shell: {cmd: "pwd > `+out+`", creates: `+out+`}
    delegate_to: localhost
`)
	check, rc, err := l.deploy(runOpts{check: true})
	if err != nil || rc.Changed != 1 {
		t.Fatalf("check: %v %v", err, check.byHost())
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("check mode ran the command: %v", err)
	}
	real, rc, err := l.deploy(runOpts{})
	if err != nil || rc.Failed != 0 {
		t.Fatalf("deploy: %v %v", err, real.byHost())
	}
	wd, _ := os.Getwd()
	if got := readFile(t, out); got != wd+"\n" {
		t.Errorf("ran in %q, want the controller's working folder %s", got, wd)
	}
	converged(t, l)
}

// A delegate_to naming no inventory host is bad input, found before
// anything runs, naming the role file and line.
func TestDelegateToUnknownHost(t *testing.T) {
	l := newLab(t, 1, "dlg")
	l.writeRole("dlg", `tasks:
  - name: marker
    copy: {content: "x", dest: "{{ .root }}/marker"}
  - name: elsewhere
    copy: {content: "x", dest: "{{ .root }}/x"}
    delegate_to: "h0{{ 9 }}"
`)
	_, _, err := l.deploy(runOpts{})
	var bad *runner.BadInputError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "role.yml:4") || !strings.Contains(err.Error(), `no host "h09"`) {
		t.Fatalf("err = %v, want bad input naming role.yml:4 and h09", err)
	}
	if _, err := os.Stat(filepath.Join(l.roots["h01"], "marker")); err == nil {
		t.Error("a task ran before the bad input was reported")
	}
}

// A delegate outside the run (here left out by --limit) is connected on
// demand with its host key verified: with a wrong key in known_hosts the
// connection is refused and nothing runs.
func TestDelegateOutsideTheRun(t *testing.T) {
	l := newLab(t, 2, "dlg")
	l.writeRole("dlg", `tasks:
  - name: on h01
    shell: {cmd: "pwd > {{ .root }}/where", creates: "{{ .root }}/where"}
    delegate_to: h01
`)
	rec, rc, err := l.deploy(runOpts{limit: "h02"})
	if err != nil || rc.Failed != 0 {
		t.Fatalf("deploy: %v %v", err, rec.byHost())
	}
	if got := readFile(t, filepath.Join(l.roots["h02"], "where")); got != l.roots["h01"]+"\n" {
		t.Errorf("ran in %q, want h01's folder", got)
	}
	converged(t, l, runOpts{limit: "h02"})

	// h01's key replaced by another server's: refused.
	other := newLab(t, 1, "dlg")
	known := filepath.Join(l.dir, "known_hosts")
	lines := strings.Split(readFile(t, known), "\n")
	h01 := strings.Fields(lines[0])[0]
	lines[0] = h01 + " " + strings.SplitN(readFile(t, filepath.Join(other.dir, "known_hosts")), " ", 2)[1]
	if err := os.WriteFile(known, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(l.roots["h02"], "where"))
	rec, rc, _ = l.deploy(runOpts{limit: "h02"})
	// As in Ansible, a delegate that cannot be reached makes the host
	// unreachable: the task could not run.
	if rc.Unreachable != 1 || rc.Changed != 0 {
		t.Errorf("with a wrong host key for the delegate: %+v %v", rc, rec.events)
	}
	var msg string
	for _, ev := range rec.events {
		if ev.Status == runner.StatusUnreachable {
			msg = ev.Message
		}
	}
	if !strings.Contains(msg, "delegate_to h01") || !strings.Contains(strings.ToLower(msg), "host key") {
		t.Errorf("failure message %q does not name the delegate and its host key", msg)
	}
	if _, err := os.Stat(filepath.Join(l.roots["h02"], "where")); err == nil {
		t.Error("the task ran despite the refused host key")
	}
}

// Check mode: a delegated task that check mode cannot plan (it reads an
// unknown value) makes what it may write unknown on the delegate, so a
// later task reading that path there is unknown too, not planned as if
// nothing had changed.
func TestDelegateUnknownMarksTheDelegate(t *testing.T) {
	l := newLab(t, 2, "dlg")
	l.writeRole("dlg", `tasks:
  - name: probe
    shell: {cmd: "echo x"}
    register: probe
    when: eq .inventory_hostname "h02"
  - name: write on h01
    copy: {content: "{{ .probe.stdout }}", dest: "{{ hostvar \"h01\" \"root\" }}/shared"}
    delegate_to: h01
    when: eq .inventory_hostname "h02"
  - name: read on h01
    stat: {path: "{{ hostvar \"h01\" \"root\" }}/shared"}
    register: shared
    delegate_to: h01
    when: eq .inventory_hostname "h02"
`)
	check, _, err := l.deploy(runOpts{check: true})
	if err != nil {
		t.Fatal(err)
	}
	got := check.byHost()
	want := []string{"h01 probe=skipped", "h01 read on h01=skipped", "h01 write on h01=skipped",
		"h02 probe=changed", "h02 read on h01=unknown", "h02 write on h01=unknown"}
	if !slices.Equal(got, want) {
		t.Errorf("check: %v\nwant %v", got, want)
	}
}
