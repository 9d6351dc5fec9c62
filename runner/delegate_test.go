package runner_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner"
)

// ranWhereTask is a task, delegated to delegate, that writes to out the
// folder it ran in (each in-process server runs commands in its own
// folder, so this tells which one ran it), once.
func ranWhereTask(name, out, delegate string) string {
	return `  - name: ` + name + `
    shell: {cmd: "pwd > ` + out + `", creates: "` + out + `"}
    delegate_to: ` + delegate + "\n"
}

// markerTask is a task, delegated to delegateTo (which renders to h01),
// that writes "for HOST" to h01's file for-HOST.
func markerTask(name, delegateTo string) string {
	return `  - name: ` + name + `
    copy: {content: "for {{ .inventory_hostname }}\n", dest: "{{ hostvar \"h01\" \"root\" }}/for-{{ .inventory_hostname }}"}
    delegate_to: ` + delegateTo + "\n"
}

// A delegated task runs over the delegate's connection with the original
// host's variables, registers its result on the original host, and check
// mode plans on the delegate's predicted state.
func TestDelegateTo(t *testing.T) {
	l := roleLab(t, 2, "dlg", "tasks:\n"+ranWhereTask("where it ran", "{{ .root }}/where", "h01")+`    register: where
`+markerTask("marker on the delegate", `'{{ "h01" }}'`)+`  - name: result registered here
    copy: {content: "rc 0\n", dest: "{{ .root }}/rc"}
    when: eq .where.rc 0
`)
	check, _ := l.run(runOpts{check: true})
	// h01 delegates to itself: a plain task there. The command's rc is
	// known only in the real run, on both hosts. (Its when: reads it, so
	// check mode knows what it may write: only its dest, not all of h01,
	// which h02's delegated marker would then read as unknown.)
	wantByHost(t, "check", check, "h01 marker on the delegate=changed", "h01 result registered here=unknown", "h01 where it ran=changed",
		"h02 marker on the delegate=changed", "h02 result registered here=unknown", "h02 where it ran=changed")
	mustDeploy(t, l, runOpts{})
	for name := range l.roots {
		l.wantFile(name, "where", l.roots["h01"]+"\n", "where it ran: the delegate h01's folder")
		l.wantFile("h01", "for-"+name, "for "+name+"\n", "marker on h01")
		l.wantFile(name, "rc", "rc 0\n", "registered result")
	}
	converged(t, l)
}

// run_once with delegate_to: one host of the batch runs it, on the
// delegate, and every host registers its result (Ansible's pattern for a
// step done once per batch, such as a database migration).
func TestRunOnceDelegated(t *testing.T) {
	l := roleLab(t, 3, "dlg", `tasks:
  - name: once on h03
    shell: {cmd: "echo {{ .inventory_hostname }} $(pwd) >> {{ hostvar \"h03\" \"root\" }}/runs", creates: "{{ hostvar \"h03\" \"root\" }}/runs"}
    run_once: true
    delegate_to: h03
    register: once
  - name: everyone has it
    copy: {content: "rc {{ .once.rc }}\n", dest: "{{ .root }}/rc"}
`)
	mustDeploy(t, l, runOpts{})
	// The first host of the batch runs it, on h03.
	l.wantFile("h03", "runs", "h01 "+l.roots["h03"]+"\n", "one run by h01 in h03's folder")
	for name := range l.roots {
		l.wantFile(name, "rc", "rc 0\n", "registered result")
	}
	converged(t, l)
}

// delegate_to: localhost runs on the controller through the local
// executor, with no inventory host of that name.
func TestDelegateToController(t *testing.T) {
	out := filepath.Join(t.TempDir(), "controller")
	l := roleLab(t, 1, "dlg", "tasks:\n"+ranWhereTask("on the controller", out, "localhost"))
	if check, rc := l.run(runOpts{check: true}); rc.Changed != 1 {
		t.Fatalf("check: %v", check.byHost())
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("check mode ran the command: %v", err)
	}
	mustDeploy(t, l, runOpts{})
	wd, _ := os.Getwd()
	if got := readFile(t, out); got != wd+"\n" {
		t.Errorf("ran in %q, want the controller's working folder %s", got, wd)
	}
	converged(t, l)
}

// A delegate_to naming no inventory host is bad input, found before
// anything runs, naming the role file and line.
func TestDelegateToUnknownHost(t *testing.T) {
	l := roleLab(t, 1, "dlg", `tasks:
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
	if l.exists("h01", "marker") {
		t.Error("a task ran before the bad input was reported")
	}
}

// A delegate outside the run (here left out by --limit) is connected on
// demand with its host key verified: with a wrong key in known_hosts the
// connection is refused and nothing runs.
func TestDelegateOutsideTheRun(t *testing.T) {
	l := roleLab(t, 2, "dlg", "tasks:\n"+ranWhereTask("on h01", "{{ .root }}/where", "h01"))
	mustDeploy(t, l, runOpts{limit: "h02"})
	l.wantFile("h02", "where", l.roots["h01"]+"\n", "where it ran: h01's folder")
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
	rec, rc, _ := l.deploy(runOpts{limit: "h02"})
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
	if l.exists("h02", "where") {
		t.Error("the task ran despite the refused host key")
	}
}

// A load balancer outside the plays, connected by a drain, that a task is
// then delegated to is made ready for tasks as any delegate: in a real
// run it is locked against other runs (its state folder holds the lock).
func TestDelegateToABalancerOutsideThePlays(t *testing.T) {
	l := newLab(t, 3, "site")
	lb := withBalancer(t, l, 0)
	l.writeRole("site", `tasks:
  - name: change
    copy: {content: "x\n", dest: "{{ .root }}/x"}
  - name: on the balancer
    command: {cmd: "true"}
    delegate_to: `+lb+"\n")
	mustDeploy(t, l, runOpts{lb: logBalancer{filepath.Join(l.dir, "lb.log")}})
	if got := readFile(t, filepath.Join(l.dir, "lb.log")); !strings.HasPrefix(got, "drain web/") {
		t.Fatalf("the balancer log %q: want a drain before the delegated task", got)
	}
	if !l.exists(lb, ".ferry/run.lock") {
		t.Errorf("%s ran a delegated task without the run lock", lb)
	}
}

// Check mode: a delegated task that check mode cannot plan (it reads an
// unknown value) makes what it may write unknown on the delegate, so a
// later task reading that path there is unknown too, not planned as if
// nothing had changed.
func TestDelegateUnknownMarksTheDelegate(t *testing.T) {
	l := roleLab(t, 2, "dlg", `tasks:
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
	check, _ := l.run(runOpts{check: true})
	wantByHost(t, "check", check, "h01 probe=skipped", "h01 read on h01=skipped", "h01 write on h01=skipped",
		"h02 probe=changed", "h02 read on h01=unknown", "h02 write on h01=unknown")
}

// The plan-first pass of a real run plans each host alone: a host with a
// delegated task is not settled by it (the delegate is another host's
// state), so planning opens no connection of its own to the delegate.
func TestDelegateNotPlannedAlone(t *testing.T) {
	l := roleLab(t, 2, "dlg", "tasks:\n"+markerTask("marker on h01", "h01"))
	mustDeploy(t, l, runOpts{})
	var mu sync.Mutex
	dialed := map[string]int{}
	rec, rc := mustDeploy(t, l, runOpts{dialing: func(h *inventory.Host) {
		mu.Lock()
		dialed[h.Name]++
		mu.Unlock()
	}})
	if rc.Changed != 0 {
		t.Errorf("second run changed: %v", rec.changed())
	}
	if dialed["h01"] != 1 || dialed["h02"] != 1 {
		t.Errorf("connections opened: %v, want one per host", dialed)
	}
}
