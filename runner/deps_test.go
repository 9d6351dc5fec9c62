package runner_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A role's dependencies run before it, once per host even when two roles
// of the play depend on the same one; a task notifies its dependency's
// handler by name or by listen topic, and the handler runs once.
func TestDependenciesRunOnceAndNotifyTheirHandlers(t *testing.T) {
	l := newLab(t, 1, "app, api")
	l.writeRoleFiles("web", map[string]string{"role.yml": `tasks:
  - name: web base
    copy: {content: "web\n", dest: "{{ .root }}/web"}
handlers:
  - name: reload web
    shell: {cmd: "echo reload >> {{ .root }}/reloads"}
    listen: web config changed
  - name: log reload
    shell: {cmd: "echo log >> {{ .root }}/reloads"}
    listen: [web config changed]
`})
	l.writeRoleFiles("app", map[string]string{"role.yml": `dependencies: [web]
tasks:
  - name: app vhost
    copy: {content: "app\n", dest: "{{ .root }}/app"}
    notify: reload web
`})
	l.writeRoleFiles("api", map[string]string{"role.yml": `dependencies: [web]
tasks:
  - name: api vhost
    copy: {content: "api\n", dest: "{{ .root }}/api"}
    notify: web config changed
`})
	_, real := checkThenRun(t, l)
	want := []string{"web base[]=changed", "app vhost[]=changed", "api vhost[]=changed", "reload web[]=changed", "log reload[]=changed"}
	if got := real.statuses(); !slices.Equal(got, want) {
		t.Fatalf("real run %v, want %v", got, want)
	}
	if got := readFile(t, filepath.Join(l.roots["h01"], "reloads")); strings.Count(got, "reload") != 1 || strings.Count(got, "log") != 1 {
		t.Errorf("reloads = %q, want each handler once", got)
	}
	_, rc := mustDeploy(t, l, runOpts{})
	if rc.Changed != 0 {
		t.Errorf("second run changed %d", rc.Changed)
	}
}
