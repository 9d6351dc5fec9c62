package runner_test

import "testing"

func TestRunOnce(t *testing.T) {
	l := roleLab(t, 3, "once", `tasks:
  - name: pick
    shell: {cmd: "echo {{ .inventory_hostname }} > {{ .root }}/picked; echo {{ .inventory_hostname }}", creates: "{{ .root }}/picked"}
    run_once: true
    register: picked
  - name: everyone knows
    copy: {content: "rc {{ .picked.rc }}\n", dest: "{{ .root }}/known"}
`)
	check, _ := l.run(runOpts{check: true})
	real, _ := mustDeploy(t, l, runOpts{})
	wantByHost(t, "real run", real, "h01 everyone knows=changed", "h01 pick=changed", "h02 everyone knows=changed", "h02 pick=skipped",
		"h03 everyone knows=changed", "h03 pick=skipped")
	// Check mode: the command's result is unknown, so is what reads it.
	wantByHost(t, "check", check, "h01 everyone knows=unknown", "h01 pick=changed", "h02 everyone knows=unknown", "h02 pick=skipped",
		"h03 everyone knows=unknown", "h03 pick=skipped")
	for name := range l.roots {
		if l.exists(name, "picked") != (name == "h01") {
			t.Errorf("%s: picked file there: %v (only h01 runs it)", name, l.exists(name, "picked"))
		}
		l.wantFile(name, "known", "rc 0\n", "registered result, shared")
	}
	second, rc, _ := l.deploy(runOpts{})
	if rc.Changed != 0 {
		t.Errorf("second run: %v", second.byHost())
	}
}

// When the first host is gone before the task, the next one runs it.
func TestRunOnceNextHostWhenTheFirstFailed(t *testing.T) {
	l := roleLab(t, 2, "once", `tasks:
  - name: h01 breaks
    command: {cmd: "false"}
    when: eq .inventory_hostname "h01"
  - name: pick
    copy: {content: "picked\n", dest: "{{ .root }}/picked"}
    run_once: true
`)
	if rec, rc := l.run(runOpts{}); rc.Failed != 1 {
		t.Fatalf("failed %d, want h01: %v", rc.Failed, rec.byHost())
	}
	l.wantFile("h02", "picked", "picked\n", "h02 runs it")
}
