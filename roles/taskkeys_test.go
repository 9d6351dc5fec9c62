package roles

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// loadText loads role.yml text as role "r" from a fresh folder.
func loadText(t *testing.T, text string) (*Role, string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "r"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "r", "role.yml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := (&Loader{Paths: []string{dir}}).Load("r")
	return r, file, checkAlone(r, err)
}

func TestTaskKeysLoad(t *testing.T) {
	r, _, err := loadText(t, `tasks:
  - name: wait
    testmod_package: {names: x}
    until: eq .result.rc 0
  - name: tuned
    testmod_package: {names: x}
    until: "{{ eq .result.rc 0 }}"
    retries: 10
    delay: 0
    failed_when: false
    ignore_errors: true
    vars: {port: 8080, url: "http://{{ .host.name }}:8080"}
`)
	if err != nil {
		t.Fatal(err)
	}
	wait, tuned := r.Tasks[0], r.Tasks[1]
	if wait.Until != "eq .result.rc 0" || wait.Retries != 3 || wait.Delay != 5 {
		t.Errorf("until defaults: until %q retries %d delay %d, want Ansible's 3 and 5", wait.Until, wait.Retries, wait.Delay)
	}
	if tuned.Retries != 10 || tuned.Delay != 0 || tuned.FailedWhen != "false" || !tuned.IgnoreErrors {
		t.Errorf("tuned = %+v", tuned)
	}
	if diff := cmp.Diff(map[string]any{"port": 8080, "url": "http://{{ .host.name }}:8080"}, tuned.Vars); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}
}

func TestTaskKeysEnvironmentOnCommands(t *testing.T) {
	r, _, err := loadText(t, `tasks:
  - name: build
    shell: {cmd: make}
    environment: {GOFLAGS: "-mod=vendor", N: 2}
`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"GOFLAGS": "-mod=vendor", "N": 2}, r.Tasks[0].Environment); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

func TestTaskKeysBadInput(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"retries without until", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    retries: 3\n", `:4: retries needs until: (the condition to wait for)`},
		{"delay without until", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    delay: 3\n", `:4: delay needs until: (the condition to wait for)`},
		{"retries not a number", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    until: true\n    retries: many\n", `:5: retries must be a whole number, got "many"`},
		{"negative delay", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    until: true\n    delay: -1\n", `:5: delay must be a whole number from 0 to 100000, got -1`},
		{"failed_when list", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    failed_when: [a, b]\n", `:4: failed_when must be one template expression (ne .result.rc 0), got a list`},
		{"failed_when syntax", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    failed_when: eq .result.rc (0\n", `:4: failed_when: template syntax: unclosed left paren`},
		{"until syntax", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    until: \"{{ .a \"\n", `:4: until: template syntax: unclosed action`},
		{"vars not a mapping", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    vars: [a]\n", `:4: vars must be a mapping (name: value), got a list`},
		{"vars bad name", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    vars: {my-var: 1}\n", `:4: vars name "my-var": use letters, digits and _`},
		{"vars template syntax", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    vars: {a: \"{{ .b \"}\n", `:4: vars: template syntax: unclosed action`},
		{"environment on a package", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    environment: {A: b}\n", `:4: environment applies to command and shell tasks only, not testmod_package`},
		{"environment list value", "tasks:\n  - name: a\n    shell: {cmd: env}\n    environment: {A: [b]}\n", `:4: environment A must be a string, got a list`},
		{"typo", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    retires: 3\n", `:4: unknown task key "retires" (did you mean "retries"?)`},
		{"ignore_errors not bool", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    ignore_errors: yes please\n", `:4: ignore_errors must be true or false, got "yes please"`},
	}
	badInputCases(t, tests)
}

// badInputCases loads each case's role.yml text and wants its error: the
// file, then want, as bad input (exit code 3).
func badInputCases(t *testing.T, tests []struct{ name, text, want string }) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, file, err := loadText(t, tt.text)
			if err == nil {
				t.Fatalf("loaded, want error %s", tt.want)
			}
			if err.Error() != file+tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, file+tt.want)
			}
			var re *Error
			if !errors.As(err, &re) {
				t.Errorf("%T is not a *roles.Error", err)
			}
		})
	}
}

func TestBlockLoad(t *testing.T) {
	r, _, err := loadText(t, `tasks:
  - name: outer
    when: "{{ .on }}"
    become: true
    tags: [web]
    vars: {a: 1, b: 2}
    no_log: true
    block:
      - name: one
        testmod_package: {names: x}
        when: eq .x 1
        vars: {b: 3}
        tags: [one]
      - block:
          - name: two
            testmod_package: {names: y}
            become: false
        rescue:
          - name: three
            testmod_package: {names: z}
    always:
      - name: four
        testmod_package: {names: w}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Tasks) != 1 || !r.Tasks[0].IsBlock() {
		t.Fatalf("tasks = %+v, want one block", r.Tasks)
	}
	var got []string
	for _, task := range Flatten(r.Tasks) {
		got = append(got, fmt.Sprintf("%s when=%q become=%v tags=%v vars=%v nolog=%v", task.Name, task.When, *task.Become, task.Tags, task.Vars, task.NoLog))
	}
	want := []string{
		`one when="and (.on) (eq .x 1)" become=true tags=[one web] vars=map[a:1 b:3] nolog=true`,
		`two when="{{ .on }}" become=false tags=[web] vars=map[a:1 b:2] nolog=true`,
		`three when="{{ .on }}" become=true tags=[web] vars=map[a:1 b:2] nolog=true`,
		`four when="{{ .on }}" become=true tags=[web] vars=map[a:1 b:2] nolog=true`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inherited keys (-want +got):\n%s", diff)
	}
}

func TestBlockBadInput(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"unknown block key", "tasks:\n  - block:\n      - {name: a, testmod_package: {names: x}}\n    rescu:\n      - {name: b, testmod_package: {names: x}}\n", `:4: unknown block key "rescu" (did you mean "rescue"?); a block has block, rescue, always, name, when, become, tags, vars, no_log, delegate_to and become_user`},
		{"module on a block", "tasks:\n  - block:\n      - {name: a, testmod_package: {names: x}}\n    testmod_package: {names: x}\n", `:4: unknown block key "testmod_package"; a block has block, rescue, always, name, when, become, tags, vars, no_log, delegate_to and become_user`},
		{"empty block", "tasks:\n  - block: []\n", `:2: block: must list at least one task`},
		{"block not a list", "tasks:\n  - block: {name: a}\n", `:2: block must be a list of tasks, got a mapping`},
		{"bad task inside", "tasks:\n  - block:\n      - name: a\n        testmod_package: {names: x}\n        retries: 2\n", `:5: retries needs until: (the condition to wait for)`},
		{"nested bad task", "tasks:\n  - block:\n      - block:\n          - name: a\n            testmod_pakage: {names: x}\n", `:5: unknown module "testmod_pakage" (did you mean "testmod_package"?)`},
		{"block in handlers", "handlers:\n  - block:\n      - {name: a, testmod_package: {names: x}}\n", `:2: a handler cannot be a block; notify several handlers instead`},
		{"notify inside a block", "tasks:\n  - block:\n      - name: a\n        testmod_package: {names: x}\n        notify: nope\n", `:5: notify: no handler named "nope" (no role of the play has handlers: r)`},
		{"text when", "tasks:\n  - when: .a\n    block:\n      - name: a\n        testmod_package: {names: x}\n        when: \"x{{ .b }}\"\n", `:4: inside a block with when:, a task's when: and the block's must each be one expression (eq .x "y"), not text around {{ }}`},
	}
	badInputCases(t, tests)
}

// loadFiles writes role "r" with files (role.yml, tasks/x.yml, ...) and loads it.
func loadFiles(t *testing.T, files map[string]string) (*Role, string, error) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, "r", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := (&Loader{Paths: []string{dir}}).Load("r")
	return r, filepath.Join(dir, "r"), checkAlone(r, err)
}

func TestImportAndIncludeLoad(t *testing.T) {
	r, dir, err := loadFiles(t, map[string]string{
		"role.yml": `tasks:
  - import_tasks: base.yml
    when: .on
    tags: [base]
  - include_tasks: vhost.yml
    loop: vhosts
    vars: {port: 80}
`,
		"tasks/base.yml":  "- name: base\n  testmod_package: {names: x}\n- import_tasks: more.yml\n",
		"tasks/more.yml":  "- name: more\n  testmod_package: {names: y}\n  when: .more\n",
		"tasks/vhost.yml": "- name: vhost {{ .item }}\n  testmod_package: {names: \"{{ .item }}\"}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, task := range Flatten(r.Tasks) {
		got = append(got, fmt.Sprintf("%s when=%q tags=%v file=%s:%d", task.Name, task.When, task.Tags, strings.TrimPrefix(task.File, dir+"/"), task.Line))
	}
	want := []string{
		`base when=".on" tags=[base] file=tasks/base.yml:1`,
		`more when="and (.on) (.more)" tags=[base] file=tasks/more.yml:1`,
		`vhost {{ .item }} when="" tags=[] file=tasks/vhost.yml:1`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	inc := r.Tasks[1]
	if !inc.IsInclude() || inc.LoopVar != "vhosts" || inc.Vars["port"] != 80 {
		t.Errorf("include = %+v", inc)
	}
}

func TestImportAndIncludeBadInput(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // after the role's folder
	}{
		{"missing file", map[string]string{"role.yml": "tasks:\n  - include_tasks: vhots.yml\n", "tasks/vhost.yml": "- {name: a, testmod_package: {names: x}}\n"},
			`/role.yml:2: include_tasks: {dir}/tasks/vhots.yml not found (did you mean "vhost.yml"?)`},
		{"no tasks folder", map[string]string{"role.yml": "tasks:\n  - import_tasks: a.yml\n"},
			`/role.yml:2: import_tasks: {dir}/tasks/a.yml not found`},
		{"cycle", map[string]string{"role.yml": "tasks:\n  - import_tasks: a.yml\n", "tasks/a.yml": "- include_tasks: b.yml\n", "tasks/b.yml": "- name: x\n  testmod_package: {names: x}\n- import_tasks: a.yml\n"},
			`/tasks/b.yml:3: import_tasks: cycle: {dir}/tasks/a.yml -> {dir}/tasks/b.yml -> {dir}/tasks/a.yml`},
		{"error inside names the file", map[string]string{"role.yml": "tasks:\n  - import_tasks: a.yml\n", "tasks/a.yml": "- name: x\n  testmod_package: {names: x}\n  retries: 2\n"},
			`/tasks/a.yml:3: retries needs until: (the condition to wait for)`},
		{"notify in a file", map[string]string{"role.yml": "tasks:\n  - import_tasks: a.yml\nhandlers:\n  - {name: reload, testmod_package: {names: x}}\n", "tasks/a.yml": "- name: x\n  testmod_package: {names: x}\n  notify: relod\n"},
			`/tasks/a.yml:3: notify: no handler named "relod" in the roles of the play (r) (did you mean "reload"?)`},
		{"bad key", map[string]string{"role.yml": "tasks:\n  - import_tasks: a.yml\n    loop: [1]\n", "tasks/a.yml": "- {name: a, testmod_package: {names: x}}\n"},
			`/role.yml:3: import_tasks has no key "loop"; it takes import_tasks, name, when, become, tags, vars, no_log, delegate_to and become_user`},
		{"template file name", map[string]string{"role.yml": "tasks:\n  - include_tasks: \"{{ .f }}.yml\"\n"},
			`/role.yml:2: include_tasks takes a file name, not a template: every file is checked before anything runs`},
		{"escape", map[string]string{"role.yml": "tasks:\n  - include_tasks: ../role.yml\n"},
			`/role.yml:2: include_tasks: "../role.yml" must be a relative path inside {dir}/tasks/`},
		{"not a list", map[string]string{"role.yml": "tasks:\n  - include_tasks: a.yml\n", "tasks/a.yml": "name: x\n"},
			`/tasks/a.yml:1: a tasks file must be a list of tasks, got a mapping`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir, err := loadFiles(t, tt.files)
			want := dir + strings.ReplaceAll(tt.want, "{dir}", dir)
			if err == nil || err.Error() != want {
				t.Errorf("error\n got: %v\nwant: %s", err, want)
			}
		})
	}
}

// loadRoles writes several roles (name -> role.yml) and loads one.
func loadRoles(t *testing.T, roles map[string]string, name string) (*Role, string, error) {
	t.Helper()
	rs, dir, err := loadRolesRaw(t, roles, name)
	if err != nil {
		return nil, dir, err
	}
	return rs[0], dir, checkAlone(rs[0], nil)
}

func TestDependenciesAndListen(t *testing.T) {
	r, _, err := loadRoles(t, map[string]string{
		"web": "handlers:\n  - name: reload web\n    testmod_service: {name: web}\n    listen: [web config changed]\n",
		"app": "dependencies: [web]\ntasks:\n  - name: conf\n    testmod_package: {names: x}\n    notify: [reload web, web config changed]\n",
	}, "app")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Dependencies) != 1 || r.Dependencies[0].Name != "web" || r.Dependencies[0].Handlers[0].Listen[0] != "web config changed" {
		t.Fatalf("dependencies = %+v", r.Dependencies)
	}
}

func TestDependencyBadInput(t *testing.T) {
	tests := []struct {
		name  string
		roles map[string]string
		want  string
	}{
		{"cycle", map[string]string{"a": "dependencies: [b]\n", "b": "dependencies: [c]\n", "c": "dependencies: [a]\n"},
			"{dir}/c/role.yml:1: dependency cycle: {dir}/a/role.yml -> {dir}/b/role.yml -> {dir}/c/role.yml -> {dir}/a/role.yml"},
		{"self", map[string]string{"a": "dependencies: [a]\n"}, "{dir}/a/role.yml:1: dependency cycle: {dir}/a/role.yml -> {dir}/a/role.yml"},
		{"missing", map[string]string{"a": "dependencies:\n  - ngnix\n", "nginx2": "dependencies: []\ntasks: []\ndefaults: {x: 1}\n"},
			`{dir}/a/role.yml:2: dependency: role "ngnix" not found; looked in {dir}/ngnix (did you mean "nginx2"?)`},
		{"not a list", map[string]string{"a": "dependencies: nginx\n"}, "{dir}/a/role.yml:1: dependencies must be a list of role names, got \"nginx\""},
		{"twice", map[string]string{"a": "dependencies: [b, b]\n", "b": "defaults: {x: 1}\n"}, `{dir}/a/role.yml:1: dependency "b" is listed twice`},
		{"notify a sibling's handler", map[string]string{"a": "tasks:\n  - name: t\n    testmod_package: {names: x}\n    notify: reload b\n", "b": "handlers:\n  - {name: reload b, testmod_package: {names: x}}\n"},
			`{dir}/a/role.yml:4: notify: no handler named "reload b" (no role of the play has handlers: a)`},
		{"listen on a task", map[string]string{"a": "tasks:\n  - name: t\n    testmod_package: {names: x}\n    listen: x\n"},
			`{dir}/a/role.yml:4: listen is for handlers: a topic notify may name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir, err := loadRoles(t, tt.roles, "a")
			want := strings.ReplaceAll(tt.want, "{dir}", dir)
			if err == nil || err.Error() != want {
				t.Errorf("error\n got: %v\nwant: %s", err, want)
			}
			var re *Error
			if err != nil && !errors.As(err, &re) {
				t.Errorf("%T is not bad input", err)
			}
		})
	}
}

func TestControlModulesBadInput(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"assert syntax", "tasks:\n  - name: a\n    assert:\n      that:\n        - eq .a (1\n", `:5: that: template syntax: unclosed left paren`},
		{"assert mapping", "tasks:\n  - name: a\n    assert: {that: {a: 1}}\n", `:3: that must be an expression or a list of expressions (eq .x "y"), got a mapping`},
		{"assert empty", "tasks:\n  - name: a\n    assert: {that: []}\n", `:3: that: list at least one condition`},
		{"assert no that", "tasks:\n  - name: a\n    assert: {fail_msg: x}\n", `:3: module "assert" needs argument "that"`},
		{"set_fact name", "tasks:\n  - name: a\n    set_fact: {my-var: 1}\n", `:3: set_fact: variable name "my-var" cannot be read in templates; use letters, digits and _`},
		{"debug arg", "tasks:\n  - name: a\n    debug: {var: x}\n", `:3: module "debug" has no argument "var"; it takes msg`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, file, err := loadText(t, tt.text)
			if err == nil || err.Error() != file+tt.want {
				t.Errorf("error\n got: %v\nwant: %s", err, file+tt.want)
			}
		})
	}
}

func TestAssertConditionsBecomeTemplates(t *testing.T) {
	r, _, err := loadText(t, "tasks:\n  - name: a\n    assert: {that: [\"eq .a 1\", \"{{ .b }}\"]}\n  - name: b\n    assert: {that: .c}\n")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"{{ eq .a 1 }}", "{{ .b }}"}, r.Tasks[0].Args["that"]); diff != "" {
		t.Error(diff)
	}
	if r.Tasks[1].Args["that"] != "{{ .c }}" {
		t.Errorf("that = %v", r.Tasks[1].Args["that"])
	}
}
