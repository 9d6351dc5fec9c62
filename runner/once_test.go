package runner_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// byHost lists "host task=status" sorted, for runs over several hosts.
func (r *recorder) byHost() []string {
	var out []string
	for _, ev := range r.events {
		if ev.Kind == "task" {
			out = append(out, ev.Host+" "+ev.Task+"="+string(ev.Status))
		}
	}
	slices.Sort(out)
	return out
}

func TestRunOnce(t *testing.T) {
	l := newLab(t, 3, "once")
	l.writeRole("once", `tasks:
  - name: pick
    shell: {cmd: "echo {{ .inventory_hostname }} > {{ .root }}/picked; echo {{ .inventory_hostname }}", creates: "{{ .root }}/picked"}
    run_once: true
    register: picked
  - name: everyone knows
    copy: {content: "rc {{ .picked.rc }}\n", dest: "{{ .root }}/known"}
`)
	check, _, err := l.deploy(runOpts{check: true})
	if err != nil {
		t.Fatal(err)
	}
	real, rc, err := l.deploy(runOpts{})
	if err != nil || rc.Failed != 0 {
		t.Fatalf("deploy: %v %v", err, real.byHost())
	}
	want := []string{"h01 everyone knows=changed", "h01 pick=changed", "h02 everyone knows=changed", "h02 pick=skipped",
		"h03 everyone knows=changed", "h03 pick=skipped"}
	if got := real.byHost(); !slices.Equal(got, want) {
		t.Errorf("real run %v, want %v", got, want)
	}
	// Check mode: the command's result is unknown, so is what reads it.
	wantCheck := []string{"h01 everyone knows=unknown", "h01 pick=changed", "h02 everyone knows=unknown", "h02 pick=skipped",
		"h03 everyone knows=unknown", "h03 pick=skipped"}
	if got := check.byHost(); !slices.Equal(got, wantCheck) {
		t.Errorf("check %v, want %v", got, wantCheck)
	}
	for name, root := range l.roots {
		_, err := os.Stat(filepath.Join(root, "picked"))
		if (name == "h01") != (err == nil) {
			t.Errorf("%s: picked file: %v (only h01 runs it)", name, err)
		}
		if got := readFile(t, filepath.Join(root, "known")); got != "rc 0\n" {
			t.Errorf("%s: registered result not shared: %q", name, got)
		}
	}
	second, rc, _ := l.deploy(runOpts{})
	if rc.Changed != 0 {
		t.Errorf("second run: %v", second.byHost())
	}
}

// When the first host is gone before the task, the next one runs it.
func TestRunOnceNextHostWhenTheFirstFailed(t *testing.T) {
	l := newLab(t, 2, "once")
	l.writeRole("once", `tasks:
  - name: h01 breaks
    command: {cmd: "false"}
    when: eq .inventory_hostname "h01"
  - name: pick
    copy: {content: "picked\n", dest: "{{ .root }}/picked"}
    run_once: true
`)
	rec, rc, err := l.deploy(runOpts{})
	if err != nil || rc.Failed != 1 {
		t.Fatalf("deploy: %v, %v", err, rec.byHost())
	}
	if got := readFile(t, filepath.Join(l.roots["h02"], "picked")); got != "picked\n" {
		t.Errorf("h02 did not run it: %q (%v)", got, rec.byHost())
	}
}
