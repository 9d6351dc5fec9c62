package runner_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// A probe that fails for real in both modes (check_mode: run): the rescue
// runs in check mode exactly as in the real run.
func TestBlockRescueAlways(t *testing.T) {
	l := newLab(t, 1, "blk")
	l.writeRole("blk", `tasks:
  - name: release
    vars: {version: "2"}
    block:
      - name: probe the release
        command: {cmd: "test -e {{ .root }}/release-{{ .version }}"}
        check_mode: run
        changed_when: false
      - name: switch to it
        copy: {content: "{{ .version }}\n", dest: "{{ .root }}/current"}
    rescue:
      - name: keep the old one
        copy: {content: "1\n", dest: "{{ .root }}/current"}
    always:
      - name: log
        copy: {content: "tried {{ .version }}\n", dest: "{{ .root }}/log"}
  - name: after the block
    copy: {content: "after\n", dest: "{{ .root }}/after"}
`)
	check, real := checkThenRun(t, l)
	want := []string{"probe the release[]=failed", "keep the old one[]=changed", "log[]=changed", "after the block[]=changed"}
	if got := real.statuses(); !slices.Equal(got, want) {
		t.Fatalf("real run %v, want %v", got, want)
	}
	if real.recap.Failed != 0 || real.recap.Hosts["h01"].Rescued != 1 || check.recap.Hosts["h01"].Rescued != 1 {
		t.Errorf("recaps %+v / %+v: a rescued failure is counted rescued, not failed", check.recap, real.recap)
	}
	root := l.roots["h01"]
	if got := readFile(t, filepath.Join(root, "current")) + readFile(t, filepath.Join(root, "log")); got != "1\ntried 2\n" {
		t.Errorf("current+log = %q", got)
	}
	// Once the release exists, the block succeeds: no rescue.
	if err := os.WriteFile(filepath.Join(root, "release-2"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, real = checkThenRun(t, l)
	want = []string{"probe the release[]=ok", "switch to it[]=changed", "log[]=ok", "after the block[]=ok"}
	if got := real.statuses(); !slices.Equal(got, want) {
		t.Fatalf("real run %v, want %v", got, want)
	}
}

func TestBlockFailureWithoutRescueStopsTheHostAfterAlways(t *testing.T) {
	l := newLab(t, 1, "blk")
	l.writeRole("blk", `tasks:
  - block:
      - name: breaks
        command: {cmd: "false"}
    always:
      - name: cleanup
        copy: {content: "clean\n", dest: "{{ .root }}/clean"}
  - name: not reached
    copy: {content: "x", dest: "{{ .root }}/x"}
`)
	rec, rc, err := l.deploy(runOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"breaks[]=failed", "cleanup[]=changed"}; !slices.Equal(rec.statuses(), want) || rc.Failed != 1 {
		t.Fatalf("%v (failed %d), want %v and a failed run", rec.statuses(), rc.Failed, want)
	}
}

func TestRescueThatFailsFailsTheHost(t *testing.T) {
	l := newLab(t, 1, "blk")
	l.writeRole("blk", `tasks:
  - block:
      - name: breaks
        command: {cmd: "false"}
    rescue:
      - name: rescue breaks too
        command: {cmd: "false"}
    always:
      - name: cleanup
        copy: {content: "clean\n", dest: "{{ .root }}/clean"}
  - name: not reached
    copy: {content: "x", dest: "{{ .root }}/x"}
`)
	rec, rc, err := l.deploy(runOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"breaks[]=failed", "rescue breaks too[]=failed", "cleanup[]=changed"}; !slices.Equal(rec.statuses(), want) || rc.Failed != 1 {
		t.Fatalf("%v (recap %+v), want %v and one failure", rec.statuses(), rc, want)
	}
}

// In check mode a command that runs only for real may fail there: whether
// the rescue runs is unknown, and check mode says so.
func TestBlockRescueUnknownInCheckMode(t *testing.T) {
	l := newLab(t, 1, "blk")
	l.writeRole("blk", `tasks:
  - block:
      - name: migrate
        command: {cmd: "true"}
    rescue:
      - name: restore
        copy: {content: "restored\n", dest: "{{ .root }}/restored"}
    always:
      - name: log
        copy: {content: "done\n", dest: "{{ .root }}/log"}
`)
	rec, rc, err := l.deploy(runOpts{check: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"migrate[]=changed", "restore[]=unknown", "log[]=changed"}
	if got := rec.statuses(); !slices.Equal(got, want) || rc.Unknown != 1 {
		t.Fatalf("check %v (recap %+v), want %v", got, rc, want)
	}
	rec, _, _ = l.deploy(runOpts{})
	if want := []string{"migrate[]=changed", "log[]=changed"}; !slices.Equal(rec.statuses(), want) {
		t.Fatalf("real run %v, want %v", rec.statuses(), want)
	}
}

// Nested blocks: the outer block's when, vars and become apply to every
// task inside; the inner rescue handles the inner failure only.
func TestNestedBlocksAndBlockKeys(t *testing.T) {
	l := newLab(t, 1, "blk")
	l.writeRole("blk", `defaults: {enabled: true}
tasks:
  - name: outer
    when: .enabled
    vars: {who: outer}
    tags: [web]
    block:
      - name: inner
        vars: {who: inner}
        block:
          - name: inner fails
            command: {cmd: "false"}
        rescue:
          - name: inner rescue
            copy: {content: "{{ .who }}\n", dest: "{{ .root }}/inner"}
      - name: outer task
        copy: {content: "{{ .who }}\n", dest: "{{ .root }}/outer"}
        when: ne .who "nobody"
`)
	rec, rc, err := l.deploy(runOpts{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"inner fails[]=failed", "inner rescue[]=changed", "outer task[]=changed"}
	if got := rec.statuses(); !slices.Equal(got, want) || rc.Failed != 0 {
		t.Fatalf("%v (recap %+v), want %v", got, rc, want)
	}
	if got := readFile(t, filepath.Join(l.roots["h01"], "inner")) + readFile(t, filepath.Join(l.roots["h01"], "outer")); got != "inner\nouter\n" {
		t.Errorf("vars: inner+outer = %q", got)
	}
	rec, _, _ = l.deploy(runOpts{extra: map[string]any{"enabled": false}})
	if len(rec.statuses()) != 2 {
		t.Errorf("outer when: false: %v, want the two tasks of the block skipped", rec.statuses())
	}
	for _, s := range rec.statuses() {
		if s[len(s)-len("skipped"):] != "skipped" {
			t.Errorf("outer when: false, but %s", s)
		}
	}
}
