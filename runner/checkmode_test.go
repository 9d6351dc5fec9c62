package runner_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner"
)

const copyThenLine = `tasks:
  - name: base config
    copy: {content: "a=1\n", dest: "{{ .root }}/x.conf"}
  - name: extra line
    line: {path: "{{ .root }}/x.conf", line: "b=2"}
`

// Issue #13, case 1: on a fresh host check mode failed the line task
// ("file does not exist") while the real run creates the file first.
func TestCheckSeesFileWrittenByEarlierTask(t *testing.T) {
	l := roleLab(t, 1, "copyline", copyThenLine)
	check, _ := checkThenRun(t, l)
	wantStatuses(t, "check on a fresh host", check, "base config[]=changed", "extra line[]=changed")
	if diff := check.last("extra line").Diff; !strings.Contains(diff, "+b=2") || strings.Contains(diff, "+a=1") {
		t.Errorf("line diff is not against the copied content:\n%s", diff)
	}
}

// Issue #13, case 2: after convergence the copy rewrites the file each run
// and the line appends again; check mode counted one change, not two.
func TestCheckCountsEveryChangeOfAConvergedRole(t *testing.T) {
	l := roleLab(t, 1, "copyline", copyThenLine)
	mustDeploy(t, l, runOpts{})
	check, _ := checkThenRun(t, l)
	if got := check.changed(); len(got) != 2 {
		t.Fatalf("check after convergence changed %v, want both tasks", got)
	}
}

// Issue #13, case 3: a read-only probe (changed_when: false) did not run in
// check mode, so a task with when: on its output was reported skipped.
func TestCheckRunsReadOnlyProbes(t *testing.T) {
	l := roleLab(t, 1, "probe", `tasks:
  - name: probe
    command: {cmd: "cat {{ .root }}/flag"}
    register: probe
    changed_when: false
  - name: probe again
    shell: {cmd: "cat {{ .root }}/flag"}
    register: again
    check_mode: run
  - name: flagged
    copy: {content: "on\n", dest: "{{ .root }}/flagged"}
    when: 'eq .probe.stdout "yes\n"'
  - name: probe after a change
    shell: {cmd: "cat {{ .root }}/flagged"}
    changed_when: false
`)
	l.put("h01", "flag", "yes\n")
	// The last probe would read what "flagged" writes: check mode does not
	// run it against the host as it is before the run.
	if _, rc := l.expect(runOpts{check: true}, "probe[]=ok", "probe again[]=changed", "flagged[]=changed", "probe after a change[]=unknown"); rc.Unknown != 1 {
		t.Fatalf("check: %d unknown, want 1", rc.Unknown)
	}
	real, _ := mustDeploy(t, l, runOpts{})
	if got := real.changed(); len(got) != 2 {
		t.Fatalf("real run changed %v, want the two check mode said", got)
	}
}

// A when: on the output of a command that would run is unknown, with the
// reason, and counted in the recap; what the unknown task writes is
// unknown for the tasks after it.
func TestCheckReportsUnknown(t *testing.T) {
	l := roleLab(t, 1, "unknown", `tasks:
  - name: generate
    shell: {cmd: "echo new > {{ .root }}/gen; echo made"}
    register: gen
  - name: depends
    copy: {content: "x\n", dest: "{{ .root }}/dep"}
    when: 'eq .gen.stdout "made\n"'
  - name: after
    line: {path: "{{ .root }}/dep", line: "y", create: true}
  - name: unrelated
    copy: {content: "z\n", dest: "{{ .root }}/other"}
`)
	check, rc := l.expect(runOpts{check: true}, "generate[]=changed", "depends[]=unknown", "after[]=unknown", "unrelated[]=changed")
	if rc.Unknown != 2 || rc.Hosts["h01"].Unknown != 2 {
		t.Errorf("recap unknown = %d (host %d), want 2", rc.Unknown, rc.Hosts["h01"].Unknown)
	}
	if ev := check.last("depends"); ev.Status != runner.StatusUnknown || !strings.Contains(ev.Message, ".gen.stdout") || !strings.Contains(ev.Message, `"generate"`) {
		t.Errorf("unknown reason = %q, want the value and the task it came from", ev.Message)
	}
}

// Users and groups are predicted: the second task on an account an
// earlier task creates plans against it (ok, or the change it still
// makes), and only the group useradd may create with the user is unknown.
func TestCheckPredictsAccounts(t *testing.T) {
	l := roleLab(t, 1, "accounts", `tasks:
  - name: group
    group: {name: ferry-check-no-such-group}
  - name: group again
    group: {name: ferry-check-no-such-group}
  - name: user
    user: {name: ferry-check-no-such-user, shell: /bin/sh, groups: [ferry-check-no-such-group]}
  - name: user again
    user: {name: ferry-check-no-such-user, shell: /bin/sh}
  - name: user's shell
    user: {name: ferry-check-no-such-user, shell: /bin/bash}
  - name: user's uid
    user: {name: ferry-check-no-such-user, uid: 4711}
  - name: user's group
    group: {name: ferry-check-no-such-user}
  - name: another group
    group: {name: ferry-check-other-group}
  - name: file
    copy: {content: "x\n", dest: "{{ .root }}/f"}
`)
	check, _ := l.expect(runOpts{check: true}, "group[]=changed", "group again[]=ok", "user[]=changed", "user again[]=ok", "user's shell[]=changed",
		"user's uid[]=unknown", "user's group[]=unknown", "another group[]=changed", "file[]=changed")
	if got := check.last("user's shell").Summary; !slices.Equal(got, []string{"set shell of ferry-check-no-such-user to /bin/bash (was /bin/sh)"}) {
		t.Errorf("second change of the user: %q", got)
	}
}

// An unknown looped task makes the paths of its items unknown, and only
// those.
func TestCheckUnknownLoopMarksItsItems(t *testing.T) {
	l := roleLab(t, 1, "loop", `tasks:
  - name: generate
    shell: {cmd: "echo made"}
    register: gen
  - name: items
    copy: {content: "x\n", dest: "{{ .root }}/{{ .item }}"}
    loop: [x, y]
    when: 'eq .gen.stdout "made\n"'
  - name: other
    copy: {content: "z\n", dest: "{{ .root }}/z"}
  - name: item x
    line: {path: "{{ .root }}/x", line: "more", create: true}
`)
	l.expect(runOpts{check: true}, "generate[]=changed", "items[]=unknown", "other[]=changed", "item x[]=unknown")
}

// A command whose guard names a link writes through it: what the link
// leads to is unknown after it, not planned against the host as it was.
// Found by the property test once links were on (seed 266).
func TestCheckCommandWritesThroughLink(t *testing.T) {
	l := roleLab(t, 1, "through", `tasks:
  - name: append
    shell: {cmd: "echo made >> {{ .root }}/b", removes: "{{ .root }}/b"}
  - name: after
    line: {path: "{{ .root }}/a", line: "made"}
`)
	l.put("h01", "a", "one\n")
	root := l.roots["h01"]
	if err := os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "b")); err != nil {
		t.Fatal(err)
	}
	l.expect(runOpts{check: true}, "append[]=changed", "after[]=unknown")
	l.expect(runOpts{}, "append[]=changed", "after[]=ok")
}
