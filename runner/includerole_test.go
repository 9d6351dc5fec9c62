package runner_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/roles"
)

// include_role with tasks_from and a loop, and import_role: the included
// tasks read their role's defaults and the include's vars, notify a
// handler of a sibling role of the play (web) and of the included role
// (lib), and every handler runs once, in the play's order: the play's
// roles first, then the roles they include. Check mode reports exactly
// what the real run does.
func TestIncludeRoleAndNotifyAcrossRoles(t *testing.T) {
	l := newLab(t, 1, "app, web")
	l.writeRole("web", `handlers:
  - name: reload web
    shell: {cmd: "echo reload web >> {{ .root }}/handlers"}
`)
	l.writeRoleFiles("lib", map[string]string{
		"role.yml": `defaults: {libdefault: d, greeting: lib}
tasks:
  - name: lib main
    copy: {content: "main {{ .libdefault }}\n", dest: "{{ .root }}/lib-main"}
    notify: lib changed
handlers:
  - name: lib handler
    shell: {cmd: "echo lib handler >> {{ .root }}/handlers"}
    listen: lib changed
`,
		"tasks/item.yml": `- name: item
  copy: {content: "{{ .greeting }} {{ .item }} {{ .libdefault }} {{ .suffix }}\n", dest: "{{ .root }}/item-{{ .item }}"}
  notify: reload web
`})
	l.writeRole("app", `defaults: {greeting: hi}
tasks:
  - name: items
    include_role: {name: lib, tasks_from: item}
    loop: [a, b]
    vars: {suffix: x}
  - import_role: {name: lib}
`)
	_, real := checkThenRun(t, l)
	wantStatuses(t, "real run", real, "item[]=changed", "item[]=changed", "lib main[]=changed", "reload web[]=changed", "lib handler[]=changed")
	l.wantFile("h01", "item-b", "hi b d x\n", "the play role's greeting, lib's default and the include's vars")
	l.wantFile("h01", "handlers", "reload web\nlib handler\n", "handlers ran, each once, the play's role first")
	converged(t, l)
}

// A role's dependencies run before it, once per host even when two roles
// of the play depend on the same one; a task notifies its dependency's
// handler by name or by listen topic, and the handler runs once.
func TestDependenciesRunOnceAndNotifyTheirHandlers(t *testing.T) {
	l := newLab(t, 1, "app, api")
	l.writeRole("web", `tasks:
  - name: web base
    copy: {content: "web\n", dest: "{{ .root }}/web"}
handlers:
  - name: reload web
    shell: {cmd: "echo reload >> {{ .root }}/reloads"}
    listen: web config changed
  - name: log reload
    shell: {cmd: "echo log >> {{ .root }}/reloads"}
    listen: [web config changed]
`)
	l.writeRole("app", `dependencies: [web]
tasks:
  - name: app vhost
    copy: {content: "app\n", dest: "{{ .root }}/app"}
    notify: reload web
`)
	l.writeRole("api", `dependencies: [web]
tasks:
  - name: api vhost
    copy: {content: "api\n", dest: "{{ .root }}/api"}
    notify: web config changed
`)
	_, real := checkThenRun(t, l)
	wantStatuses(t, "real run", real, "web base[]=changed", "app vhost[]=changed", "api vhost[]=changed", "reload web[]=changed", "log reload[]=changed")
	if got := l.file("h01", "reloads"); strings.Count(got, "reload") != 1 || strings.Count(got, "log") != 1 {
		t.Errorf("reloads = %q, want each handler once", got)
	}
	_, rc := mustDeploy(t, l, runOpts{})
	if rc.Changed != 0 {
		t.Errorf("second run changed %d", rc.Changed)
	}
}

// A dependency runs once per host per run; one that allows duplicates runs
// each time a role depends on it (including the dependencies of a role
// another includes).
func TestAllowDuplicates(t *testing.T) {
	for _, allow := range []bool{false, true} {
		l := newLab(t, 1, "app, api")
		head := ""
		if allow {
			head = "allow_duplicates: true\n"
		}
		l.writeRole("base", head+`tasks:
  - name: base
    shell: {cmd: "echo run >> {{ .root }}/base-runs"}
`)
		l.writeRole("lib", "dependencies: [base]\ntasks:\n  - {name: lib, debug: {msg: lib}}\n")
		l.writeRole("app", "dependencies: [base]\ntasks:\n  - {name: app, debug: {msg: app}}\n")
		l.writeRole("api", "tasks:\n  - import_role: {name: lib}\n")
		want := map[bool]int{false: 1, true: 2}[allow]
		check, _ := mustDeploy(t, l, runOpts{check: true})
		if got := strings.Count(strings.Join(check.statuses(), " "), "base[]=changed"); got != want {
			t.Errorf("allow_duplicates %v: check mode plans base %d times, want %d: %v", allow, got, want, check.statuses())
		}
		mustDeploy(t, l, runOpts{})
		runs := strings.Count(l.file("h01", "base-runs"), "run")
		if runs != want {
			t.Errorf("allow_duplicates %v: base ran %d times, want %d", allow, runs, want)
		}
	}
}

// A notify naming no handler of any role of the play is bad input before
// anything runs, naming the file and line.
func TestNotifyUndefinedHandler(t *testing.T) {
	notifying := func(handler string) string {
		return "tasks:\n  - name: a\n    copy: {content: x, dest: \"{{ .root }}/a\"}\n    notify: " + handler + "\n"
	}
	const web = "handlers:\n  - {name: reload web, debug: {msg: x}}\n"
	l := roleLab(t, 1, "app", notifying("reload wbe"))
	l.writeRole("web", web)
	_, _, err := l.deploy(runOpts{})
	var re *roles.Error
	if !errors.As(err, &re) || re.Line != 4 || !strings.HasSuffix(re.File, "app/role.yml") || !strings.Contains(err.Error(), `no handler named "reload wbe"`) {
		t.Fatalf("err = %v, want a roles.Error at app/role.yml:4", err)
	}
	// With web in the play, the same notify (fixed) is fine.
	l2 := newLab(t, 1, "app, web")
	l2.writeRole("app", notifying("reload web"))
	l2.writeRole("web", web)
	rec, _ := mustDeploy(t, l2, runOpts{})
	wantStatuses(t, "the task and web's handler", rec, "a[]=changed", "reload web[]=ok")
}
