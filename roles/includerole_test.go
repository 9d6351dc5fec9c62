package roles

import (
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/internal/testfs"
)

func TestIncludeAndImportRoleLoad(t *testing.T) {
	dir := testfs.WriteTree(t, map[string]string{
		"app/role.yml": `tasks:
  - name: vhosts
    include_role: {name: web, tasks_from: vhost}
    loop: [a, b]
    vars: {port: 80}
  - import_role: {name: web}
    become: true
    tags: [web]
`,
		"web/role.yml":        "defaults: {port: 8080}\ntasks:\n  - {name: web main, testmod_package: {names: x}}\nhandlers:\n  - {name: reload web, testmod_service: {name: web}}\n",
		"web/tasks/vhost.yml": "- name: vhost\n  testmod_package: {names: x}\n  notify: reload web\n",
	})
	l := &Loader{Paths: []string{dir}}
	app, err := l.Load("app")
	if err != nil {
		t.Fatal(err)
	}
	web, _ := l.Load("web")
	inc, imp := app.Tasks[0], app.Tasks[1]
	if !inc.IsInclude() || inc.IncludeRole != web || len(inc.LoopItems) != 2 || inc.Vars["port"] != 80 {
		t.Fatalf("include_role = %+v", inc)
	}
	if len(inc.Include) != 1 || inc.Include[0].Name != "vhost" || inc.Include[0].Role != web || !strings.HasSuffix(inc.IncludeFile, "web/tasks/vhost.yml") {
		t.Errorf("included tasks = %+v (from %s), want web's tasks/vhost.yml, as web's", inc.Include, inc.IncludeFile)
	}
	if !imp.IsBlock() || imp.IncludeRole != web || imp.Name != "import_role web" {
		t.Fatalf("import_role = %+v", imp)
	}
	got := imp.Block[0]
	if got == web.Tasks[0] || got.Become == nil || !*got.Become || got.Tags[0] != "web" {
		t.Errorf("imported task = %+v: want a copy with the import's keys", got)
	}
	if web.Tasks[0].Become != nil || len(web.Tasks[0].Tags) != 0 {
		t.Errorf("the import changed web's own task: %+v", web.Tasks[0])
	}
	// app notifies web's handler: fine in a play that includes web.
	if err := CheckNotify([]*Role{app, web}); err != nil {
		t.Error(err)
	}
}

func TestIncludeRoleBadInput(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing role", map[string]string{"a/role.yml": "tasks:\n  - include_role: {name: wbe}\n", "web/role.yml": "defaults: {x: 1}\n"},
			`{dir}/a/role.yml:2: include_role: role "wbe" not found; looked in {dir}/wbe (did you mean "web"?)`},
		{"missing file", map[string]string{"a/role.yml": "tasks:\n  - import_role: {name: web, tasks_from: vhots}\n", "web/role.yml": "defaults: {x: 1}\n", "web/tasks/vhost.yml": "[]\n"},
			`{dir}/a/role.yml:2: import_role: {dir}/web/tasks/vhots.yml not found (did you mean "vhost.yml"?)`},
		{"no name", map[string]string{"a/role.yml": "tasks:\n  - include_role: {tasks_from: x}\n"},
			`{dir}/a/role.yml:2: include_role needs name: (the role)`},
		{"not a mapping", map[string]string{"a/role.yml": "tasks:\n  - include_role: web\n"},
			`{dir}/a/role.yml:2: include_role must be a mapping (name: ROLE, tasks_from: FILE), got "web"`},
		{"unknown argument", map[string]string{"a/role.yml": "tasks:\n  - include_role: {name: web, task_from: x}\n"},
			`{dir}/a/role.yml:2: include_role has no argument "task_from" (did you mean "tasks_from"?); it takes name and tasks_from`},
		{"template name", map[string]string{"a/role.yml": "tasks:\n  - include_role: {name: \"{{ .r }}\"}\n"},
			`{dir}/a/role.yml:2: include_role name takes a name, not a template: every role is checked before anything runs`},
		{"bad key", map[string]string{"a/role.yml": "tasks:\n  - import_role: {name: web}\n    loop: [1]\n", "web/role.yml": "defaults: {x: 1}\n"},
			`{dir}/a/role.yml:3: import_role has no key "loop"; it takes import_role, name, when, become, tags, vars, no_log, delegate_to and become_user`},
		{"cycle of roles", map[string]string{"a/role.yml": "tasks:\n  - include_role: {name: b}\n", "b/role.yml": "tasks:\n  - import_role: {name: a}\n"},
			`{dir}/b/role.yml:2: import_role: cycle: {dir}/a/role.yml -> {dir}/b/role.yml -> {dir}/a/role.yml`},
		{"itself", map[string]string{"a/role.yml": "tasks:\n  - include_role: {name: a}\n"},
			`{dir}/a/role.yml:2: include_role: cycle: {dir}/a/role.yml -> {dir}/a/role.yml`},
		{"cycle through a dependency", map[string]string{"a/role.yml": "dependencies: [b]\n", "b/role.yml": "tasks:\n  - include_role: {name: a}\n"},
			`{dir}/b/role.yml:2: include_role: cycle: {dir}/a/role.yml -> {dir}/b/role.yml -> {dir}/a/role.yml`},
		{"cycle of files across roles", map[string]string{"a/role.yml": "tasks:\n  - include_role: {name: b, tasks_from: x}\n", "b/role.yml": "defaults: {x: 1}\n",
			"b/tasks/x.yml": "- include_role: {name: a, tasks_from: y}\n", "a/tasks/y.yml": "- include_role: {name: b, tasks_from: x}\n"},
			`{dir}/a/tasks/y.yml:1: include_role: cycle: {dir}/b/tasks/x.yml -> {dir}/a/tasks/y.yml -> {dir}/b/tasks/x.yml`},
		{"allow_duplicates not a bool", map[string]string{"a/role.yml": "allow_duplicates: sometimes\ndefaults: {x: 1}\n"},
			`{dir}/a/role.yml:1: allow_duplicates must be true or false, got "sometimes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testfs.WriteTree(t, tt.files)
			_, err := (&Loader{Paths: []string{dir}}).Load("a")
			want := strings.ReplaceAll(tt.want, "{dir}", dir)
			if err == nil || err.Error() != want {
				t.Errorf("error\n got: %v\nwant: %s", err, want)
			}
		})
	}
}

// A role may include its own tasks files (tasks_from), and its own role
// does not make a cycle then.
func TestIncludeRoleOwnTasksFile(t *testing.T) {
	dir := testfs.WriteTree(t, map[string]string{
		"a/role.yml":     "tasks:\n  - include_role: {name: a, tasks_from: x}\n",
		"a/tasks/x.yml":  "- {name: x, testmod_package: {names: x}}\n",
		"b/role.yml":     "allow_duplicates: true\ndefaults: {x: 1}\n",
		"b/tasks/no.yml": "[]\n",
	})
	l := &Loader{Paths: []string{dir}}
	a, err := l.Load("a")
	if err != nil || a.Tasks[0].Include[0].Name != "x" {
		t.Fatalf("%v %+v", err, a)
	}
	b, err := l.Load("b")
	if err != nil || !b.AllowDuplicates {
		t.Fatalf("allow_duplicates: %v %+v", err, b)
	}
}
