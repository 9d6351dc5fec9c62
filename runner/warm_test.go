package runner_test

import (
	"os"
	"path/filepath"
	"testing"
)

// warmRole: five files that stay as they are, one file every host shares,
// and one whose content comes from the run's variables.
const warmRole = `tasks:
  - name: fixed
    copy: {content: "fixed {{ .item }}\n", dest: "{{ .root }}/fixed-{{ .item }}"}
    loop: [1, 2, 3, 4, 5]
  - name: shared
    copy: {content: "{{ .shared_content }}\n", dest: "{{ .shared }}"}
  - name: last
    copy: {content: "{{ .last }}\n", dest: "{{ .root }}/last"}
`

// TestChangeRunServesPlannedReads: a host whose plan finds a change runs in
// its turn, but the items its plan found ok before that change cost no
// round trip: their reads came in the plan's batch. The item that changes,
// and everything after it, read the host again.
func TestChangeRunServesPlannedReads(t *testing.T) {
	l := newLab(t, 2, "site")
	l.writeRole("site", warmRole)
	shared := filepath.Join(l.dir, "shared")
	vars := map[string]any{"shared": shared, "shared_content": "s", "last": "one"}
	converge(t, l, vars)
	vars["last"] = "two"
	rec, rc, err := l.deploy(runOpts{extra: vars})
	if err != nil || rc.Failed != 0 || rc.Changed != 2 {
		t.Fatalf("change run: %v, %d changed, %d failed: %v", err, rc.Changed, rc.Failed, rec.byHost())
	}
	for _, ev := range rec.events {
		if ev.Kind != "task" {
			continue
		}
		switch {
		case ev.Task == "last" && ev.RoundTrips == 0:
			t.Errorf("%s: the changing task read nothing from the host", ev.Host)
		case ev.Task != "last" && ev.RoundTrips != 0:
			t.Errorf("%s %s[%s]: %d round trips, want 0 (planned ok)", ev.Host, ev.Task, ev.Item, ev.RoundTrips)
		}
	}
	for name, root := range l.roots {
		if got := readFile(t, filepath.Join(root, "last")); got != "two\n" {
			t.Errorf("%s: last = %q", name, got)
		}
	}
}

// TestChangeRunReadsAgainBeforeChanging: the plan of h02 finds the shared
// file to change, but h01, in the batch before it (serial 1), writes it
// first. h02's turn must read the file again instead of trusting its plan:
// the task is ok there, and changes nothing.
func TestChangeRunReadsAgainBeforeChanging(t *testing.T) {
	l := newLab(t, 2, "site")
	l.writeRole("site", warmRole)
	withSiteKeys(t, l, "    serial: 1\n")
	shared := filepath.Join(l.dir, "shared")
	vars := map[string]any{"shared": shared, "shared_content": "old", "last": "one"}
	converge(t, l, vars)
	vars["shared_content"] = "new"
	rec, rc, err := l.deploy(runOpts{extra: vars})
	if err != nil || rc.Failed != 0 {
		t.Fatalf("change run: %v %+v", err, rc)
	}
	got := map[string]string{}
	for _, ev := range rec.events {
		if ev.Kind == "task" && ev.Task == "shared" {
			got[ev.Host] = string(ev.Status)
		}
	}
	if got["h01"] != "changed" || got["h02"] != "ok" {
		t.Errorf("shared file: %v, want h01 changed and h02 ok (read again in its turn)", got)
	}
	if b, err := os.ReadFile(shared); err != nil || string(b) != "new\n" {
		t.Errorf("shared file holds %q (%v)", b, err)
	}
}

func converge(t *testing.T, l *lab, vars map[string]any) {
	t.Helper()
	rec, rc, err := l.deploy(runOpts{extra: vars})
	if err != nil || rc.Failed != 0 {
		for _, ev := range rec.events {
			if ev.Status == "failed" {
				t.Errorf("%s %s: %s", ev.Host, ev.Task, ev.Message)
			}
		}
		t.Fatalf("converge: %v", err)
	}
}
