package roles

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/ferry-deploy/ferry/runner/modspec"
	// The real modules register their specs; built-in roles name them.
	_ "github.com/ferry-deploy/ferry/runner/modules"
	"github.com/ferry-deploy/ferry/templates"
	"go.yaml.in/yaml/v3"
)

// FuzzLoadRole parses arbitrary role.yml bytes: the parser may reject them
// but must never panic, and a rejection is always a *roles.Error.
func FuzzLoadRole(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*/role.yml")
	more, _ := filepath.Glob("testdata/*/*/*/role.yml")
	for _, s := range append(seeds, more...) {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("tasks: &a [*a]"))
	f.Add([]byte("tasks:\n  - name: x\n    testmod_package: {names: [a]}\n    <<: {become: true}\n"))
	engine := templates.New(templates.Options{})
	folder := fstest.MapFS{
		"templates/site.conf.tmpl": {Data: []byte("listen {{ .port }}")},
		"templates/bad.tmpl":       {Data: []byte("{{ if }}")},
		"files/motd":               {Data: []byte("hi")},
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		r := &Role{
			Name:      "fuzz",
			Source:    "fuzz/role.yml",
			Templates: fsSource{fsys: folder, dir: "templates", display: "fuzz/templates"},
			Files:     fsSource{fsys: folder, dir: "files", display: "fuzz/files"},
		}
		p := &parser{file: r.Source, role: r, engine: engine}
		err := p.parse(content)
		if err == nil {
			for _, task := range append(append([]*Task(nil), r.Tasks...), r.Handlers...) {
				if task.Name == "" || task.Module == "" || task.Args == nil {
					t.Fatalf("accepted an incomplete task: %+v", task)
				}
			}
			return
		}
		var re *Error
		if !errors.As(err, &re) {
			t.Fatalf("error %T is not a *roles.Error: %v", err, err)
		}
	})
}

// TestBuiltinRolesLoad loads every role embedded in ferry: each must name
// registered modules only and load cleanly.
func TestBuiltinRolesLoad(t *testing.T) {
	root := (&Loader{}).builtinRoot()
	entries, err := fs.ReadDir(root, ".")
	if err != nil {
		t.Fatal(err)
	}
	l := &Loader{Builtin: true}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			b, err := fs.ReadFile(root, e.Name()+"/role.yml")
			if err != nil {
				t.Fatal(err)
			}
			if missing := unregisteredModules(b); len(missing) > 0 {
				t.Fatalf("role names modules that are not registered: %v", missing)
			}
			r, err := l.Load(e.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !r.Builtin || r.Source != "builtin:"+e.Name()+"/role.yml" {
				t.Errorf("source %s, builtin %v", r.Source, r.Builtin)
			}
		})
	}
}

// unregisteredModules lists the module keys of a role.yml that name no
// registered module, read loosely (the loader proper reports bad shapes).
func unregisteredModules(b []byte) []string {
	var doc struct {
		Tasks    []map[string]any `yaml:"tasks"`
		Handlers []map[string]any `yaml:"handlers"`
	}
	if yaml.Unmarshal(b, &doc) != nil {
		return nil
	}
	var missing []string
	for _, task := range append(doc.Tasks, doc.Handlers...) {
		for k := range task {
			if _, ok := modspec.Lookup(k); !ok && !isTaskKey(k) {
				missing = append(missing, k)
			}
		}
	}
	return missing
}
