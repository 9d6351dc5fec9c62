package runner_test

import (
	"strings"
	"testing"
)

func TestSetFactAssertDebugFail(t *testing.T) {
	l := roleLab(t, 1, "ctl", `defaults: {port: 80}
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
	wantStatuses(t, "real run", real, "computed[]=ok", "sane[]=ok", "show[]=ok", "written[]=changed", "stop here[]=skipped")
	for _, rec := range []*recorder{check, real} {
		if ev := rec.last("show"); ev.Message != "url http://h01:80" {
			t.Errorf("debug message not in the events: %+v", rec.events)
		}
	}
	l.wantFile("h01", "url", "url http://h01:80 80 443 \n", "what debug registered")
	for _, check := range []bool{true, false} {
		rec, rc := l.run(runOpts{check: check, extra: map[string]any{"port": 8080}})
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
