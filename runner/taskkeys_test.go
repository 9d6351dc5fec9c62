package runner_test

import (
	"strings"
	"testing"
)

// Issue #14: a task that failed with ignore_errors used to count as failed,
// so the run exited 1 although the play went on.
func TestIgnoredFailureDoesNotFailTheRun(t *testing.T) {
	l := roleLab(t, 1, "ignored", `tasks:
  - name: may fail
    command: {cmd: "false"}
    ignore_errors: true
    register: probe
  - name: after
    copy: {content: "rc={{ .probe.rc }} failed={{ .probe.failed }}\n", dest: "{{ .root }}/after"}
`)
	// In check mode the command does not run: what it registers, and
	// so the next task, is unknown.
	if _, rc := l.expect(runOpts{check: true}, "may fail[]=changed", "after[]=unknown"); rc.Failed != 0 {
		t.Fatalf("check: recap %+v, want failed 0", rc)
	}
	if _, rc := l.expect(runOpts{}, "may fail[]=failed", "after[]=changed"); rc.Failed != 0 || rc.Hosts["h01"].Ignored != 1 {
		t.Fatalf("recap %+v, want failed 0 and 1 ignored", rc)
	}
	l.wantFile("h01", "after", "rc=1 failed=true\n", "registered result of the ignored failure")
}

func TestFailedWhen(t *testing.T) {
	l := roleLab(t, 1, "fw", `tasks:
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
	first := []string{"grep finds nothing[]=ok", "prints an error[]=failed", "record[]=changed"}
	for _, mode := range []struct {
		check  bool
		failed int
		then   []string
	}{
		// The last probe runs after a change: check mode does not run
		// it. Unknown may fail or not: check mode plans on.
		{true, 0, []string{"prints an error, not ignored[]=unknown", "never reached[]=changed"}},
		{false, 1, []string{"prints an error, not ignored[]=failed"}},
	} {
		rec, rc := l.expect(runOpts{check: mode.check}, append(first, mode.then...)...)
		if rc.Failed != mode.failed {
			t.Fatalf("check=%v: failed %d, want %d", mode.check, rc.Failed, mode.failed)
		}
		if msg := rec.last("prints an error").Message; !strings.Contains(msg, `failed_when "contains \"ERROR\" .result.stdout" is true`) {
			t.Errorf("failure message %q does not name failed_when", msg)
		}
	}
	l.wantFile("h01", "g", "rc=1 failed=false\n", "registered result")
}

// A command that runs only in the real run: check mode cannot know what
// failed_when will say, so the task is changed (as every such command)
// and its failed value is unknown, not guessed.
func TestFailedWhenOnACommandCheckModeDoesNotRun(t *testing.T) {
	l := roleLab(t, 1, "fwcheck", `tasks:
  - name: migrate
    shell: {cmd: "echo migrated > {{ .root }}/m"}
    failed_when: ne .result.rc 0
`)
	if _, rc := l.expect(runOpts{check: true}, "migrate[]=changed"); rc.Failed != 0 {
		t.Fatalf("check: recap %+v", rc)
	}
	if l.exists("h01", "m") {
		t.Fatal("check mode ran the command")
	}
}

// until: retries a task (with its delay) until the condition holds, at
// most retries+1 times; the task is reported once, after its retries.
func TestUntil(t *testing.T) {
	for _, c := range []struct {
		name    string
		retries string
		need    int      // runs until the command succeeds
		want    []string // statuses
		message string   // of the retried task, where set
		changed int      // in the recap: each retried task counts once
		failed  int
		files   map[string]string // on the host after the run
	}{
		{"retries until true", "5", 3, []string{"wait for ready[]=changed", "record[]=changed"}, "after 3 attempts", 2, 0,
			map[string]string{"n": "3\n", "w": "attempts=3 try 3\n"}},
		{"gives up", "2", 10, []string{"wait for ready[]=failed"}, "", 0, 1,
			map[string]string{"n": "3\n"}}, // retries+1 runs
	} {
		t.Run(c.name, func(t *testing.T) {
			l := roleLab(t, 1, "until", `tasks:
  - name: wait for ready
    shell: {cmd: "n=$(cat {{ .root }}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{ .root }}/n; echo try $n; [ $n -ge {{ .need }} ]"}
    until: eq .result.rc 0
    retries: `+c.retries+`
    delay: 0
    register: w
  - name: record
    copy: {content: "attempts={{ .w.attempts }} {{ .w.stdout }}", dest: "{{ .root }}/w"}
`)
			rec, rc := l.expect(runOpts{extra: map[string]any{"need": c.need}}, c.want...)
			if msg := rec.last("wait for ready").Message; c.message != "" && msg != c.message {
				t.Errorf("message %q, want %q", msg, c.message)
			}
			if st := rc.Hosts["h01"]; st.Changed != c.changed || st.OK != 0 || st.Failed != c.failed {
				t.Errorf("stats %+v, want %d changed and %d failed: each retried task counts once", st, c.changed, c.failed)
			}
			for name, want := range c.files {
				l.wantFile("h01", name, want, "after the retries")
			}
		})
	}
}

// In check mode a read-only probe (check_mode: run) is retried for real,
// as the real run will; it changes nothing.
func TestUntilCheckModeReadOnlyProbe(t *testing.T) {
	l := roleLab(t, 1, "untilcheck", `tasks:
  - name: wait for file
    command: {cmd: "cat {{ .root }}/ready"}
    check_mode: run
    changed_when: false
    until: eq .result.stdout "yes\n"
    retries: 1
    delay: 0
`)
	l.put("h01", "ready", "yes\n")
	checkThenRun(t, l)
	l.put("h01", "ready", "no\n")
	for _, check := range []bool{true, false} {
		// The probe fails after its retries.
		if _, rc := l.expect(runOpts{check: check}, "wait for file[]=failed"); rc.Failed != 1 {
			t.Fatalf("check=%v: recap %+v, want one failure", check, rc)
		}
	}
}

func TestTaskVars(t *testing.T) {
	l := roleLab(t, 1, "tvars", `defaults: {port: 80, who: role}
tasks:
  - name: with vars
    copy: {content: "{{ .url }} {{ .who }}\n", dest: "{{ .root }}/v"}
    vars: {port: 8080, url: "http://{{ .inventory_hostname }}:{{ .port }}"}
  - name: without
    copy: {content: "{{ .port }}\n", dest: "{{ .root }}/p"}
`)
	checkThenRun(t, l)
	// vars render against the host's variables, not each other (as
	// Ansible's do not see their siblings being defined).
	if v, p := l.file("h01", "v"), l.file("h01", "p"); v != "http://h01:80 role\n" || p != "80\n" {
		t.Errorf("v = %q, p = %q", v, p)
	}
	if _, rc := l.run(runOpts{extra: map[string]any{"who": "cli"}}); rc.Changed != 1 {
		t.Fatalf("with -e who=cli: %+v", rc)
	}
	l.wantFile("h01", "v", "http://h01:80 cli\n", "extra vars must win over task vars")
}

func TestTaskVarsOverrideForTheTask(t *testing.T) {
	l := roleLab(t, 1, "tvars2", `defaults: {port: 80}
tasks:
  - name: with vars
    copy: {content: "{{ .port }}\n", dest: "{{ .root }}/v"}
    vars: {port: 8080}
`)
	checkThenRun(t, l)
	l.wantFile("h01", "v", "8080\n", "the task's port")
}

func TestEnvironment(t *testing.T) {
	l := roleLab(t, 1, "env", `tasks:
  - name: secret in env
    command: {cmd: "sh -c 'test \"$TOKEN\" = \"$EXPECT\" && test -n \"$TOKEN\"'"}
    environment: {TOKEN: "{{ .site_password }}", EXPECT: "{{ .site_password }}"}
    changed_when: false
  - name: greet
    shell: {cmd: "printf '%s' \"$GREETING\" > {{ .root }}/greeting", creates: "{{ .root }}/greeting"}
    environment: {GREETING: "hello {{ .inventory_hostname }}"}
`)
	_, real := checkThenRun(t, l)
	l.wantFile("h01", "greeting", "hello h01", "environment")
	for _, ev := range real.events {
		if strings.Contains(ev.Message+strings.Join(ev.Summary, " ")+ev.Diff, canary) {
			t.Errorf("secret in event %+v", ev)
		}
	}
}
