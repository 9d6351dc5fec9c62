package runner_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Issue #14: a task that failed with ignore_errors used to count as failed,
// so the run exited 1 although the play went on.
func TestIgnoredFailureDoesNotFailTheRun(t *testing.T) {
	l := newLab(t, 1, "ignored")
	l.writeRole("ignored", `tasks:
  - name: may fail
    command: {cmd: "false"}
    ignore_errors: true
    register: probe
  - name: after
    copy: {content: "rc={{ .probe.rc }} failed={{ .probe.failed }}\n", dest: "{{ .root }}/after"}
`)
	for _, check := range []bool{true, false} {
		rec, rc, err := l.deploy(runOpts{check: check})
		if err != nil {
			t.Fatal(err)
		}
		if rc.Failed != 0 || rc.Hosts["h01"].Ignored != 1 && !check {
			t.Fatalf("check=%v: recap %+v, want failed 0 and 1 ignored; events %v", check, rc, rec.statuses())
		}
		// In check mode the command does not run: what it registers, and
		// so the next task, is unknown.
		want := []string{"may fail[]=failed", "after[]=changed"}
		if check {
			want = []string{"may fail[]=changed", "after[]=unknown"}
		}
		if got := rec.statuses(); !slices.Equal(got, want) {
			t.Errorf("check=%v: %v, want %v", check, got, want)
		}
	}
	got, _ := os.ReadFile(filepath.Join(l.roots["h01"], "after"))
	if string(got) != "rc=1 failed=true\n" {
		t.Errorf("registered result of the ignored failure = %q", got)
	}
}

func TestFailedWhen(t *testing.T) {
	l := newLab(t, 1, "fw")
	l.writeRole("fw", `tasks:
  - name: grep finds nothing
    command: {cmd: "grep -q absent /dev/null"}
    failed_when: gt .result.rc 1
    changed_when: false
    register: g
  - name: prints an error
    shell: {cmd: "echo ERROR: disk full"}
    changed_when: false
    failed_when: contains "ERROR" .result.stdout
    ignore_errors: true
  - name: record
    copy: {content: "rc={{ .g.rc }} failed={{ .g.failed }}\n", dest: "{{ .root }}/g"}
  - name: prints an error, not ignored
    shell: {cmd: "echo ERROR: disk full"}
    changed_when: false
    failed_when: contains "ERROR" .result.stdout
  - name: never reached
    copy: {content: "x", dest: "{{ .root }}/never"}
`)
	for _, check := range []bool{true, false} {
		rec, rc, err := l.deploy(runOpts{check: check})
		if err != nil {
			t.Fatal(err)
		}
		// The last probe runs after a change: check mode does not run it.
		want := []string{"grep finds nothing[]=ok", "prints an error[]=failed", "record[]=changed", "prints an error, not ignored[]=failed"}
		wantFailed := 1
		if check {
			// Unknown may fail or not: check mode plans on.
			want[3], wantFailed = "prints an error, not ignored[]=unknown", 0
			want = append(want, "never reached[]=changed")
		}
		if got := rec.statuses(); !slices.Equal(got, want) || rc.Failed != wantFailed {
			t.Fatalf("check=%v: %v (failed %d), want %v", check, got, rc.Failed, want)
		}
		for _, ev := range rec.events {
			if ev.Task == "prints an error" && !strings.Contains(ev.Message, `failed_when "contains \"ERROR\" .result.stdout" is true`) {
				t.Errorf("failure message %q does not name failed_when", ev.Message)
			}
		}
	}
	got, _ := os.ReadFile(filepath.Join(l.roots["h01"], "g"))
	if string(got) != "rc=1 failed=false\n" {
		t.Errorf("registered = %q, want rc=1 failed=false", got)
	}
}

// A command that runs only in the real run: check mode cannot know what
// failed_when will say, so the task is changed (as every such command)
// and its failed value is unknown, not guessed.
func TestFailedWhenOnACommandCheckModeDoesNotRun(t *testing.T) {
	l := newLab(t, 1, "fwcheck")
	l.writeRole("fwcheck", `tasks:
  - name: migrate
    shell: {cmd: "echo migrated > {{ .root }}/m"}
    failed_when: ne .result.rc 0
`)
	rec, rc, err := l.deploy(runOpts{check: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.statuses(); !slices.Equal(got, []string{"migrate[]=changed"}) || rc.Failed != 0 {
		t.Fatalf("check: %v, recap %+v", got, rc)
	}
	if _, err := os.Stat(filepath.Join(l.roots["h01"], "m")); err == nil {
		t.Fatal("check mode ran the command")
	}
}

const untilRole = `tasks:
  - name: wait for ready
    shell: {cmd: "n=$(cat {{ .root }}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{ .root }}/n; echo try $n; [ $n -ge {{ .need }} ]"}
    until: eq .result.rc 0
    retries: {{RETRIES}}
    delay: 0
    register: w
  - name: record
    copy: {content: "attempts={{ .w.attempts }} {{ .w.stdout }}", dest: "{{ .root }}/w"}
`

func TestUntilRetriesUntilTrue(t *testing.T) {
	l := newLab(t, 1, "until")
	l.writeRole("until", strings.Replace(untilRole, "{{RETRIES}}", "5", 1))
	rec, rc, err := l.deploy(runOpts{extra: map[string]any{"need": 3}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"wait for ready[]=changed", "record[]=changed"}; !slices.Equal(rec.statuses(), want) || rc.Failed != 0 {
		t.Fatalf("%v (recap %+v), want %v: one event for the task, after its retries", rec.statuses(), rc, want)
	}
	for _, ev := range rec.events {
		if ev.Task == "wait for ready" && ev.Message != "after 3 attempts" {
			t.Errorf("message %q, want \"after 3 attempts\"", ev.Message)
		}
	}
	if st := rc.Hosts["h01"]; st.Changed != 2 || st.OK != 0 {
		t.Errorf("stats %+v: each retried task counts once", st)
	}
	got, _ := os.ReadFile(filepath.Join(l.roots["h01"], "w"))
	if string(got) != "attempts=3 try 3\n" {
		t.Errorf("registered = %q", got)
	}
}

func TestUntilGivesUp(t *testing.T) {
	l := newLab(t, 1, "until")
	l.writeRole("until", strings.Replace(untilRole, "{{RETRIES}}", "2", 1))
	rec, rc, err := l.deploy(runOpts{extra: map[string]any{"need": 10}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"wait for ready[]=failed"}; !slices.Equal(rec.statuses(), want) || rc.Failed != 1 {
		t.Fatalf("%v (recap %+v), want %v", rec.statuses(), rc, want)
	}
	n, _ := os.ReadFile(filepath.Join(l.roots["h01"], "n"))
	if string(n) != "3\n" {
		t.Errorf("ran %q times, want retries+1 = 3", n)
	}
}

// In check mode a read-only probe (check_mode: run) is retried for real,
// as the real run will; it changes nothing.
func TestUntilCheckModeReadOnlyProbe(t *testing.T) {
	l := newLab(t, 1, "untilcheck")
	l.writeRole("untilcheck", `tasks:
  - name: wait for file
    command: {cmd: "cat {{ .root }}/ready"}
    check_mode: run
    changed_when: false
    until: eq .result.stdout "yes\n"
    retries: 1
    delay: 0
`)
	if err := os.WriteFile(filepath.Join(l.roots["h01"], "ready"), []byte("yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkThenRun(t, l)
	if err := os.WriteFile(filepath.Join(l.roots["h01"], "ready"), []byte("no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, check := range []bool{true, false} {
		rec, rc, err := l.deploy(runOpts{check: check})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rec.statuses(), []string{"wait for file[]=failed"}) || rc.Failed != 1 {
			t.Fatalf("check=%v: %v, want the probe to fail after its retries", check, rec.statuses())
		}
	}
}

func TestTaskVars(t *testing.T) {
	l := newLab(t, 1, "tvars")
	l.writeRole("tvars", `defaults: {port: 80, who: role}
tasks:
  - name: with vars
    copy: {content: "{{ .url }} {{ .who }}\n", dest: "{{ .root }}/v"}
    vars: {port: 8080, url: "http://{{ .inventory_hostname }}:{{ .port }}"}
  - name: without
    copy: {content: "{{ .port }}\n", dest: "{{ .root }}/p"}
`)
	checkThenRun(t, l)
	v, _ := os.ReadFile(filepath.Join(l.roots["h01"], "v"))
	p, _ := os.ReadFile(filepath.Join(l.roots["h01"], "p"))
	// vars render against the host's variables, not each other (as
	// Ansible's do not see their siblings being defined).
	if string(v) != "http://h01:80 role\n" || string(p) != "80\n" {
		t.Errorf("v = %q, p = %q", v, p)
	}
	_, rc, err := l.deploy(runOpts{extra: map[string]any{"who": "cli"}})
	if err != nil || rc.Changed != 1 {
		t.Fatalf("with -e who=cli: %+v, %v", rc, err)
	}
	v, _ = os.ReadFile(filepath.Join(l.roots["h01"], "v"))
	if string(v) != "http://h01:80 cli\n" {
		t.Errorf("extra vars must win over task vars: %q", v)
	}
}

func TestTaskVarsOverrideForTheTask(t *testing.T) {
	l := newLab(t, 1, "tvars2")
	l.writeRole("tvars2", `defaults: {port: 80}
tasks:
  - name: with vars
    copy: {content: "{{ .port }}\n", dest: "{{ .root }}/v"}
    vars: {port: 8080}
`)
	checkThenRun(t, l)
	v, _ := os.ReadFile(filepath.Join(l.roots["h01"], "v"))
	if string(v) != "8080\n" {
		t.Errorf("v = %q, want the task's port", v)
	}
}

func TestEnvironment(t *testing.T) {
	l := newLab(t, 1, "env")
	l.writeRole("env", `tasks:
  - name: secret in env
    command: {cmd: "sh -c 'test \"$TOKEN\" = \"$EXPECT\" && test -n \"$TOKEN\"'"}
    environment: {TOKEN: "{{ .site_password }}", EXPECT: "{{ .site_password }}"}
    changed_when: false
  - name: greet
    shell: {cmd: "printf '%s' \"$GREETING\" > {{ .root }}/greeting", creates: "{{ .root }}/greeting"}
    environment: {GREETING: "hello {{ .inventory_hostname }}"}
`)
	_, real := checkThenRun(t, l)
	got, _ := os.ReadFile(filepath.Join(l.roots["h01"], "greeting"))
	if string(got) != "hello h01" {
		t.Errorf("greeting = %q", got)
	}
	for _, ev := range real.events {
		if strings.Contains(ev.Message+strings.Join(ev.Summary, " ")+ev.Diff, canary) {
			t.Errorf("secret in event %+v", ev)
		}
	}
}
