package runner_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stat in check mode sees the file an earlier task would write, exactly
// as the real run reads it.
func TestStatSeesPredictedFile(t *testing.T) {
	l := newLab(t, 1, "st")
	l.writeRole("st", `tasks:
  - name: before
    stat: {path: "{{ .root }}/conf"}
    register: before
  - name: conf
    copy: {content: "abc\n", dest: "{{ .root }}/conf", mode: "0640"}
  - name: after
    stat: {path: "{{ .root }}/conf"}
    register: after
  - name: report
    copy:
      dest: "{{ .root }}/report"
      content: "{{ .before.stat.exists }} {{ .after.stat.exists }} {{ .after.stat.mode }} {{ .after.stat.size }} {{ .after.stat.isdir }} {{ .after.stat.checksum }}\n"
`)
	check, real := checkThenRun(t, l)
	want := []string{"before[]=ok", "conf[]=changed", "after[]=ok", "report[]=changed"}
	if got := real.statuses(); !slices.Equal(got, want) {
		t.Fatalf("real %v, want %v", got, want)
	}
	var checkDiff string
	for _, ev := range check.events {
		if ev.Task == "report" {
			checkDiff = ev.Diff
		}
	}
	const line = "false true 0640 4 false edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb\n"
	if got := readFile(t, filepath.Join(l.roots["h01"], "report")); got != line {
		t.Errorf("report = %q, want %q", got, line)
	}
	if !slices.Contains(strings.Split(checkDiff, "\n"), "+"+strings.TrimSuffix(line, "\n")) {
		t.Errorf("check mode's diff of the report does not show the real run's content:\n%s", checkDiff)
	}
}
