package runner_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSetFactAssertDebugFail(t *testing.T) {
	l := newLab(t, 1, "ctl")
	l.writeRole("ctl", `defaults: {port: 80}
tasks:
  - name: computed
    set_fact: {url: "http://{{ .inventory_hostname }}:{{ .port }}", ports: [80, 443]}
  - name: sane
    assert:
      that: [eq .url "http://h01:80", eq (len .ports) 2]
      fail_msg: url is wrong
  - name: show
    debug: {msg: "url {{ .url }}"}
    register: shown
  - name: written
    copy: {content: "{{ .shown.stdout }} {{ range .ports }}{{ . }} {{ end }}\n", dest: "{{ .root }}/url"}
  - name: stop here
    fail: {msg: "port {{ .port }} is not allowed"}
    when: eq .port 8080
`)
	check, real := checkThenRun(t, l)
	want := []string{"computed[]=ok", "sane[]=ok", "show[]=ok", "written[]=changed", "stop here[]=skipped"}
	if got := real.statuses(); !slices.Equal(got, want) {
		t.Fatalf("real %v, want %v", got, want)
	}
	for _, rec := range []*recorder{check, real} {
		found := false
		for _, ev := range rec.events {
			found = found || ev.Task == "show" && ev.Message == "url http://h01:80"
		}
		if !found {
			t.Errorf("debug message not in the events: %+v", rec.events)
		}
	}
	if got := readFile(t, filepath.Join(l.roots["h01"], "url")); got != "url http://h01:80 80 443 \n" {
		t.Errorf("url = %q", got)
	}
	for _, check := range []bool{true, false} {
		rec, rc, err := l.deploy(runOpts{check: check, extra: map[string]any{"port": 8080}})
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, ev := range rec.events {
			if ev.Status == "failed" {
				msgs = append(msgs, ev.Task+": "+ev.Message)
			}
		}
		if rc.Failed != 1 || len(msgs) != 1 || !strings.Contains(msgs[0], "sane: url is wrong") {
			t.Errorf("check=%v: failures %v, want the assert's fail_msg", check, msgs)
		}
	}
}

// set_fact from a command's output: in check mode the command does not
// run, so what it sets is unknown to the tasks that read it.
func TestSetFactUnknownInCheckMode(t *testing.T) {
	l := newLab(t, 1, "ctl")
	l.writeRole("ctl", `tasks:
  - name: probe
    shell: {cmd: "echo v1"}
    register: probe
  - name: version
    set_fact: {version: "{{ trim .probe.stdout }}"}
  - name: written
    copy: {content: "{{ .version }}\n", dest: "{{ .root }}/v"}
`)
	rec, _, err := l.deploy(runOpts{check: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"probe[]=changed", "version[]=unknown", "written[]=unknown"}; !slices.Equal(rec.statuses(), want) {
		t.Fatalf("check %v, want %v", rec.statuses(), want)
	}
	mustDeploy(t, l, runOpts{})
	if got := readFile(t, filepath.Join(l.roots["h01"], "v")); got != "v1\n" {
		t.Errorf("v = %q", got)
	}
}
