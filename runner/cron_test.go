package runner_test

import "testing"

func TestCron(t *testing.T) {
	l := roleLab(t, 1, "cr", `tasks:
  - name: backup job
    cron: {name: backup, minute: "*/15", hour: "1-5", job: "/usr/local/bin/backup --quiet", user: backup,
           env: ["MAILTO=ops@example.org"], cron_file: "{{ .root }}/backup"}
`)
	_, real := checkThenRun(t, l)
	wantStatuses(t, "real run", real, "backup job[]=changed")
	l.wantFile("h01", "backup", "# managed by ferry: cron backup\nMAILTO=ops@example.org\n*/15 1-5 * * * backup /usr/local/bin/backup --quiet\n", "cron file")
	_, rc := mustDeploy(t, l, runOpts{})
	if rc.Changed != 0 {
		t.Errorf("second run changed %d", rc.Changed)
	}
	l.rolePaths = nil // the role below replaces the one above
	l.writeRole("cr", `tasks:
  - name: backup job
    cron: {name: backup, state: absent, cron_file: "{{ .root }}/backup"}
`)
	checkThenRun(t, l)
	if got := l.file("h01", "backup"); got[0] != '<' {
		t.Errorf("absent left %q", got)
	}
}
