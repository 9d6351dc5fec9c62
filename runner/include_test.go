package runner_test

import (
	"slices"
	"strings"
	"testing"
)

func TestIncludeTasksWithLoopAndImport(t *testing.T) {
	l := newLab(t, 2, "vh")
	l.writeRoleFiles("vh", map[string]string{
		"role.yml": `defaults:
  vhosts: [{name: a, port: 8081}, {name: b, port: 8082}]
tasks:
  - import_tasks: base.yml
    vars: {base: "{{ .root }}/sites"}
  - include_tasks: vhost.yml
    loop: vhosts
    vars: {base: "{{ .root }}/sites"}
  - include_tasks: vhost.yml
    when: eq .inventory_hostname "nobody"
    vars: {base: /nonexistent}
`,
		"tasks/base.yml": `- name: sites folder
  file: {path: "{{ .base }}", state: directory}
`,
		"tasks/vhost.yml": `- name: vhost
  copy: {content: "server {{ .item.name }} {{ .item.port }}\n", dest: "{{ .base }}/{{ .item.name }}.conf"}
`,
	})
	// Two hosts run in parallel: compare per host, not in event order.
	check, _ := l.run(runOpts{check: true})
	real, _ := mustDeploy(t, l, runOpts{})
	if !slices.Equal(check.byHost(), real.byHost()) {
		t.Fatalf("check %v, real %v", check.byHost(), real.byHost())
	}
	want := []string{"h01 sites folder[]=changed", "h01 vhost[]=changed", "h01 vhost[]=changed",
		"h02 sites folder[]=changed", "h02 vhost[]=changed", "h02 vhost[]=changed"}
	var got []string
	for _, ev := range real.events {
		if ev.Kind == "task" {
			got = append(got, ev.Host+" "+ev.Task+"["+ev.Item+"]="+string(ev.Status))
		}
	}
	if slices.Sort(got); !slices.Equal(got, want) {
		t.Fatalf("real run %v, want %v", got, want)
	}
	for name := range l.roots {
		for _, vh := range []string{"a 8081", "b 8082"} {
			l.wantFile(name, "sites/"+strings.Fields(vh)[0]+".conf", "server "+vh+"\n", "vhost")
		}
	}
	_, rc := mustDeploy(t, l, runOpts{})
	if rc.Changed != 0 {
		t.Errorf("second run changed %d", rc.Changed)
	}
}

// Preflight checks the tasks of an included file once per loop item,
// before anything runs: a bad item stops the deploy with no change.
func TestIncludeTasksPreflightPerItem(t *testing.T) {
	l := newLab(t, 1, "vh")
	l.writeRoleFiles("vh", map[string]string{
		"role.yml": `defaults:
  vhosts: [{name: a}, {nam: b}]
tasks:
  - name: first
    copy: {content: "x", dest: "{{ .root }}/first"}
  - include_tasks: vhost.yml
    loop: vhosts
`,
		"tasks/vhost.yml": `- name: vhost
  copy: {content: "{{ .item.name }}", dest: "{{ .root }}/{{ .item.name }}.conf"}
`,
	})
	_, _, err := l.deploy(runOpts{})
	if err == nil || !strings.Contains(err.Error(), "tasks/vhost.yml:1 (task \"vhost\")") {
		t.Fatalf("deploy: %v, want a preflight error naming tasks/vhost.yml:1", err)
	}
	if l.exists("h01", "first") {
		t.Error("the first task ran before preflight refused the include")
	}
}
