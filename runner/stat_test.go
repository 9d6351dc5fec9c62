package runner_test

import (
	"slices"
	"strings"
	"testing"
)

// stat in check mode sees the file an earlier task would write, exactly
// as the real run reads it.
func TestStatSeesPredictedFile(t *testing.T) {
	l := roleLab(t, 1, "st", `tasks:
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
	wantStatuses(t, "real run", real, "before[]=ok", "conf[]=changed", "after[]=ok", "report[]=changed")
	const line = "false true 0640 4 false edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb\n"
	l.wantFile("h01", "report", line, "what stat registered")
	if checkDiff := check.last("report").Diff; !slices.Contains(strings.Split(checkDiff, "\n"), "+"+strings.TrimSuffix(line, "\n")) {
		t.Errorf("check mode's diff of the report does not show the real run's content:\n%s", checkDiff)
	}
}
