package runner_test

import (
	"strings"
	"testing"
)

// A probe that fails for real in both modes (check_mode: run): the rescue
// runs in check mode exactly as in the real run.
func TestBlockRescueAlways(t *testing.T) {
	l := roleLab(t, 1, "blk", `tasks:
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
	wantStatuses(t, "real run", real, "probe the release[]=failed", "keep the old one[]=changed", "log[]=changed", "after the block[]=changed")
	if real.recap.Failed != 0 || real.recap.Hosts["h01"].Rescued != 1 || check.recap.Hosts["h01"].Rescued != 1 {
		t.Errorf("recaps %+v / %+v: a rescued failure is counted rescued, not failed", check.recap, real.recap)
	}
	l.wantFile("h01", "current", "1\n", "the rescue's release")
	l.wantFile("h01", "log", "tried 2\n", "always")
	// Once the release exists, the block succeeds: no rescue.
	l.put("h01", "release-2", "")
	_, real = checkThenRun(t, l)
	wantStatuses(t, "real run", real, "probe the release[]=ok", "switch to it[]=changed", "log[]=ok", "after the block[]=ok")
}

// A block that fails, and whose rescue (if any) fails too, runs its
// always tasks and then stops the host: the run fails.
func TestBlockFailureFailsTheHost(t *testing.T) {
	for _, c := range []struct {
		name, rescue string
		want         []string
	}{
		{"no rescue", "", []string{"breaks[]=failed", "cleanup[]=changed"}},
		{"rescue fails", `    rescue:
      - name: rescue breaks too
        command: {cmd: "false"}
`, []string{"breaks[]=failed", "rescue breaks too[]=failed", "cleanup[]=changed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := roleLab(t, 1, "blk", `tasks:
  - block:
      - name: breaks
        command: {cmd: "false"}
`+c.rescue+`    always:
      - name: cleanup
        copy: {content: "clean\n", dest: "{{ .root }}/clean"}
  - name: not reached
    copy: {content: "x", dest: "{{ .root }}/x"}
`)
			if _, rc := l.expect(runOpts{}, c.want...); rc.Failed != 1 {
				t.Fatalf("recap %+v, want one failure", rc)
			}
		})
	}
}

// Nested blocks: the outer block's when, vars and become apply to every
// task inside; the inner rescue handles the inner failure only.
func TestNestedBlocksAndBlockKeys(t *testing.T) {
	l := roleLab(t, 1, "blk", `defaults: {enabled: true}
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
	if _, rc := l.expect(runOpts{}, "inner fails[]=failed", "inner rescue[]=changed", "outer task[]=changed"); rc.Failed != 0 {
		t.Fatalf("recap %+v, want no failure", rc)
	}
	l.wantFile("h01", "inner", "inner\n", "vars of the inner block")
	l.wantFile("h01", "outer", "outer\n", "vars of the outer block")
	rec, _ := l.run(runOpts{extra: map[string]any{"enabled": false}})
	if len(rec.statuses()) != 2 {
		t.Errorf("outer when: false: %v, want the two tasks of the block skipped", rec.statuses())
	}
	for _, s := range rec.statuses() {
		if !strings.HasSuffix(s, "skipped") {
			t.Errorf("outer when: false, but %s", s)
		}
	}
}
