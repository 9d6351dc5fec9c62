package runner_test

import (
	"strings"
	"testing"
)

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
