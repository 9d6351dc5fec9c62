package roles

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/modspec"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Test modules carry a prefix so that they never collide with the real
// modules, which register their specs in the same registry.
func init() {
	reg := func(name string, args, required []string, files ...modspec.FileArg) {
		modspec.Register(modspec.Spec{Name: name, Args: args, Required: required, Files: files})
	}
	reg("testmod_package", []string{"names", "state"}, []string{"names"})
	reg("testmod_template", []string{"src", "dest", "mode", "validate"}, []string{"src", "dest"},
		modspec.FileArg{Arg: "src", Folder: modspec.Templates, Into: "content"})
	reg("testmod_copy", []string{"src", "content", "dest", "mode"}, []string{"dest"},
		modspec.FileArg{Arg: "src", Folder: modspec.Files, Into: "content"})
	reg("testmod_service", []string{"name", "state", "enabled"}, []string{"name"})
}

func TestLoadBrokenRoles(t *testing.T) {
	const dir = "testdata/broken"
	f := func(role string) string { return filepath.Join(dir, role, "role.yml") }
	tests := []struct{ role, want string }{
		{"unknown_top", f("unknown_top") + `:4: unknown key "handler" (did you mean "handlers"?); a role has defaults, dependencies, allow_duplicates, tasks and handlers`},
		{"unknown_task_key", f("unknown_task_key") + `:4: unknown task key "nofity" (did you mean "notify"?)`},
		{"no_module", f("no_module") + `:2: task "does nothing" has no module; a task has exactly one (package, template, service, ...)`},
		{"two_modules", f("two_modules") + `:4: two modules in one task ("testmod_copy" on line 3 and "testmod_package"); a task has exactly one`},
		{"unknown_module", f("unknown_module") + `:5: unknown module "testmod_pakage" (did you mean "testmod_package"?)`},
		{"unknown_arg", f("unknown_arg") + `:6: module "testmod_template" has no argument "mod" (did you mean "mode"?); it takes src, dest, mode, validate`},
		{"missing_required", f("missing_required") + `:3: module "testmod_template" needs argument "dest"`},
		{"template_not_found", f("template_not_found") + `:4: src: ` + filepath.Join(dir, "template_not_found", "templates") + `/sit.conf.tmpl not found (did you mean "site.conf.tmpl"?)`},
		{"copy_not_found", f("copy_not_found") + `:3: src: ` + filepath.Join(dir, "copy_not_found", "files") + `/mtod.txt not found (did you mean "motd.txt"?)`},
		{"template_syntax", filepath.Join(dir, "template_syntax", "templates") + `/haproxy.cfg.tmpl:3: syntax: missing value for if`},
		{"src_escapes", f("src_escapes") + `:3: src: "../../secret.tmpl" must be a relative path inside ` + filepath.Join(dir, "src_escapes", "templates") + `/`},
		{"notify_no_handler", f("notify_no_handler") + `:5: notify: no handler named "reload ngnix" in the roles of the play (notify_no_handler) (did you mean "reload nginx"?)`},
		{"become_not_bool", f("become_not_bool") + `:4: become must be true or false, got "yes"`},
		{"changed_when_template", f("changed_when_template") + `:4: changed_when must be true or false, got "{{ .x }}"`},
		{"loop_mapping", f("loop_mapping") + `:4: loop must be a list or the name of a list variable, got a mapping`},
		{"loop_template", f("loop_template") + `:4: loop must be a list, the name of a list variable, or one {{ action }} giving a list; got "all {{ .packages }}"`},
		{"loop_syntax", f("loop_syntax") + `:4: loop: template syntax: unexpected right paren`},
		{"tags_mapping", f("tags_mapping") + `:4: tags must be a string or a list of strings, got a mapping`},
		{"handlers_mapping", f("handlers_mapping") + `:5: handlers must be a list of tasks, got a mapping (write each handler as a task with a name: "- name: reload nginx")`},
		{"duplicate_handler", f("duplicate_handler") + `:4: handler "reload" is declared twice (first on line 2)`},
		{"yaml_syntax", f("yaml_syntax") + `:3: YAML: did not find expected ',' or '}'`},
		{"arg_template_syntax", f("arg_template_syntax") + `:4: dest: template syntax: unclosed action`},
		{"block_template_syntax", f("block_template_syntax") + `:8: content: template syntax: unexpected right paren`},
		{"when_syntax", f("when_syntax") + `:4: when: template syntax: unclosed left paren`},
		{"duplicate_key", f("duplicate_key") + `:4: duplicate key "name" (first on line 2)`},
		{"no_name", f("no_name") + `:2: a task needs a name`},
		{"bad_default_name", f("bad_default_name") + `:3: variable name "nginx-root" cannot be read in templates; use letters, digits and _`},
		{"args_not_mapping", f("args_not_mapping") + `:3: arguments of module "testmod_package" must be a mapping (key: value), got "nginx"`},
		{"bad_register", f("bad_register") + `:4: register "site-result" cannot be read in templates; use letters, digits and _`},
		{"empty_file", f("empty_file") + `: empty file; a role needs tasks (see doc/roles.md)`},
		{"not_a_mapping", f("not_a_mapping") + `:1: role.yml must be a mapping with defaults, dependencies, allow_duplicates, tasks and handlers`},
		{"second_document", f("second_document") + `:4: a second YAML document; role.yml holds one`},
		{"task_not_mapping", f("task_not_mapping") + `:2: a task must be a mapping (name:, a module, ...), got "testmod_package"`},
		{"no_role_yml", filepath.Join(dir, "no_role_yml") + `: folder has no role.yml`},
		{"nosuchrole", `role "nosuchrole" not found; looked in ` + filepath.Join(dir, "nosuchrole")},
		{"no_modul", `role "no_modul" not found; looked in ` + filepath.Join(dir, "no_modul") + ` (did you mean "no_module"?)`},
		{"../good", `role name "../good": use letters, digits, '_', '-' and '.' only`},
	}
	l := &Loader{Paths: []string{dir}}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			r, err := l.Load(tt.role)
			err = checkAlone(r, err)
			if err == nil {
				t.Fatalf("loaded %s, want error:\n%s", r.Source, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			var re *Error
			if !errors.As(err, &re) {
				t.Errorf("%T is not a *roles.Error", err)
			}
		})
	}
}

func TestLoadGoodRole(t *testing.T) {
	l := &Loader{Paths: []string{"testdata/good"}}
	r, err := l.Load("web")
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	want := &Role{
		Name:   "web",
		Source: "testdata/good/web/role.yml",
		Defaults: map[string]any{
			"web_port":     80,
			"web_packages": []any{"nginx", "curl"},
			"web_site":     map[string]any{"name": "www.ferry.test", "aliases": []any{"ferry.test"}},
		},
		Tasks: []*Task{
			{Name: "packages", Module: "testmod_package", Args: map[string]any{"names": "{{ .web_packages }}"}, Tags: []string{"web"}, Line: 7},
			{
				Name: "site configuration", Module: "testmod_template", Line: 10,
				Args:   map[string]any{"src": "site.conf.tmpl", "dest": "/etc/nginx/sites-available/default", "mode": "0644", "validate": "nginx -t -c %s"},
				Notify: []string{"reload nginx"}, When: "eq .web_port 80", Tags: []string{"web", "config"},
				Become: &yes, Register: "site", NoLog: true, ChangedWhen: &no,
			},
			{
				Name: "motd", Module: "testmod_copy", Line: 24, Args: map[string]any{"src": "motd", "dest": "/etc/motd"},
				LoopItems: []any{"a", "{{ .web_port }}"}, Notify: []string{"reload nginx", "restart nginx"},
			},
			{Name: "one per package", Module: "testmod_package", Line: 28, Args: map[string]any{"names": []any{"{{ .item }}"}}, LoopVar: "web_packages", Become: &no},
			{Name: "one per web host", Module: "testmod_package", Line: 32, Args: map[string]any{"names": []any{"{{ .item.Name }}"}}, LoopExpr: `{{ hosts "web" }}`},
		},
		Handlers: []*Task{
			{Name: "reload nginx", Module: "testmod_service", Line: 36, Args: map[string]any{"name": "nginx", "state": "reloaded"}, IsHandler: true},
			{Name: "restart nginx", Module: "testmod_service", Line: 38, Args: map[string]any{"name": "nginx", "state": "restarted"}, Notify: []string{"reload nginx"}, IsHandler: true},
		},
	}
	opts := []cmp.Option{
		cmpopts.IgnoreFields(Role{}, "Templates", "Files", "TaskFiles"),
		cmpopts.IgnoreFields(Task{}, "Role", "File", "NotifyLine"),
		cmpopts.EquateEmpty(),
	}
	if diff := cmp.Diff(want, r, opts...); diff != "" {
		t.Errorf("loaded role (-want +got):\n%s", diff)
	}
	for _, task := range append(append([]*Task(nil), r.Tasks...), r.Handlers...) {
		if task.Role != r {
			t.Errorf("task %q does not point back to its role", task.Name)
		}
	}
	b, display, err := r.Templates.ReadFile("site.conf.tmpl")
	if err != nil || !strings.Contains(string(b), "{{ .web_port }}") || display != "testdata/good/web/templates/site.conf.tmpl" {
		t.Errorf("Templates.ReadFile: %q, %q, %v", b, display, err)
	}
	if b, _, err := r.Files.ReadFile("motd"); err != nil || string(b) != "welcome\n" {
		t.Errorf("Files.ReadFile: %q, %v", b, err)
	}
	if again, err := l.Load("web"); err != nil || again != r {
		t.Error("a second Load did not return the cached role")
	}
}

func TestUserRoleOverridesBuiltin(t *testing.T) {
	l := &Loader{Paths: []string{"testdata/user"}, Builtin: true, builtin: os.DirFS("testdata/fakebuiltin")}
	web, err := l.Load("web")
	if err != nil {
		t.Fatal(err)
	}
	if web.Builtin || web.Source != "testdata/user/web/role.yml" || web.Tasks[0].Name != "user web" {
		t.Errorf("web came from %s (builtin %v), want the user role", web.Source, web.Builtin)
	}
	if diff := cmp.Diff([]string{"builtin:web/role.yml"}, web.Overrides); diff != "" {
		t.Errorf("Overrides (-want +got):\n%s", diff)
	}
	db, err := l.Load("db")
	if err != nil {
		t.Fatal(err)
	}
	if !db.Builtin || db.Source != "builtin:db/role.yml" || len(db.Overrides) != 0 {
		t.Errorf("db: source %s builtin %v overrides %v", db.Source, db.Builtin, db.Overrides)
	}
	if _, display, err := db.Templates.ReadFile("my.cnf.tmpl"); err != nil || display != "builtin:db/templates/my.cnf.tmpl" {
		t.Errorf("built-in template: %s, %v", display, err)
	}
	// Without Builtin, only the user folder counts.
	if _, err := (&Loader{Paths: []string{"testdata/user"}, builtin: os.DirFS("testdata/fakebuiltin")}).Load("db"); err == nil {
		t.Error("loaded a built-in role with Builtin off")
	}
	_, err = l.Load("dbb")
	if want := `role "dbb" not found; looked in testdata/user/dbb, builtin:dbb (did you mean "db"?)`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestSearchOrder(t *testing.T) {
	tests := []struct {
		name       string
		rolesPaths []string
		wantSource string
		wantOver   []string
	}{
		{"beside the inventory", nil, "testdata/site/roles/app/role.yml", nil},
		{"--roles-path first", []string{"testdata/extra"}, "testdata/extra/app/role.yml", []string{"testdata/site/roles/app/role.yml"}},
		{"--roles-path without the role", []string{"testdata/user"}, "testdata/site/roles/app/role.yml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Loader{Paths: SearchPath(tt.rolesPaths, "testdata/site/inventory.yml")}
			r, err := l.Load("app")
			if err != nil {
				t.Fatal(err)
			}
			if r.Source != tt.wantSource {
				t.Errorf("source %s, want %s", r.Source, tt.wantSource)
			}
			if diff := cmp.Diff(tt.wantOver, r.Overrides, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Overrides (-want +got):\n%s", diff)
			}
		})
	}
	got := SearchPath([]string{"a", "b/", "a"}, "inv/hosts.yml")
	if diff := cmp.Diff([]string{"a", "b", "inv/roles"}, got); diff != "" {
		t.Errorf("SearchPath (-want +got):\n%s", diff)
	}
}
