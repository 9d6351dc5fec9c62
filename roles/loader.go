package roles

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ferry-deploy/ferry/templates"
)

// builtinFS holds ferry's built-in roles, one folder each.
//
//go:embed all:builtin
var builtinFS embed.FS

// Loader finds roles by name and loads and checks them. A Loader is safe
// for concurrent use; each role is loaded once.
type Loader struct {
	// Paths are user role folders, searched first, in order: the
	// --roles-path folders, then roles/ beside the inventory (SearchPath
	// builds this list).
	Paths []string
	// Builtin makes ferry's embedded roles the last place searched.
	Builtin bool
	// Templates checks template syntax at load time; nil uses an Engine
	// without inventory, which is enough to parse.
	Templates *templates.Engine

	// builtin replaces the embedded roles in tests.
	builtin fs.FS

	mu    sync.Mutex
	cache map[string]*loaded
}

type loaded struct {
	role *Role
	err  error
}

// SearchPath returns the folders a Loader searches, in order: each
// --roles-path folder, then roles/ beside the inventory file (when
// inventoryPath is not empty). Repeated folders are dropped.
func SearchPath(rolesPaths []string, inventoryPath string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		c := filepath.Clean(p)
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, p := range rolesPaths {
		add(p)
	}
	if inventoryPath != "" {
		add(filepath.Join(filepath.Dir(inventoryPath), "roles"))
	}
	return out
}

// roleNameRE keeps role names to plain folder names, so that a name can
// never reach outside the search folders.
var roleNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// Load returns the role called name from the first place that has it (see
// Paths and Builtin), parsed and checked. Errors are *Error values.
func (l *Loader) Load(name string) (*Role, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cache == nil {
		l.cache = map[string]*loaded{}
	}
	return l.loadCached(name, nil)
}

// loadCached loads a role once; stack lists the roles whose dependencies
// lead to this one, to report a cycle.
func (l *Loader) loadCached(name string, stack []*Role) (*Role, error) {
	if c, ok := l.cache[name]; ok {
		return c.role, c.err
	}
	r, err := l.load(name, stack)
	if err != nil {
		r = nil
	}
	l.cache[name] = &loaded{role: r, err: err}
	return r, err
}

// candidate is one place a role of the wanted name exists.
type candidate struct {
	source  string // role.yml as shown to users
	builtin bool
	dir     string // folder on disk (user roles)
	fsys    fs.FS  // the role's folder (built-in roles)
}

func (l *Loader) load(name string, stack []*Role) (*Role, error) {
	if !roleNameRE.MatchString(name) {
		return nil, errorf("", 0, "role name %q: use letters, digits, '_', '-' and '.' only", name)
	}
	found, looked, err := l.find(name)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		msg := fmt.Sprintf("role %q not found; looked in %s", name, strings.Join(looked, ", "))
		return nil, errorf("", 0, "%s%s", msg, didYouMean(name, l.available()))
	}
	win := found[0]
	r := &Role{Name: name, Source: win.source, Builtin: win.builtin}
	for _, c := range found[1:] {
		r.Overrides = append(r.Overrides, c.source)
	}
	var content []byte
	if win.builtin {
		content, err = fs.ReadFile(win.fsys, "role.yml")
		r.Templates = fsSource{fsys: win.fsys, dir: "templates", display: "builtin:" + name + "/templates"}
		r.Files = fsSource{fsys: win.fsys, dir: "files", display: "builtin:" + name + "/files"}
		r.TaskFiles = fsSource{fsys: win.fsys, dir: "tasks", display: "builtin:" + name + "/tasks"}
	} else {
		content, err = os.ReadFile(win.source)
		root := os.DirFS(win.dir)
		r.Templates = fsSource{fsys: root, dir: "templates", display: filepath.Join(win.dir, "templates")}
		r.Files = fsSource{fsys: root, dir: "files", display: filepath.Join(win.dir, "files")}
		r.TaskFiles = fsSource{fsys: root, dir: "tasks", display: filepath.Join(win.dir, "tasks")}
	}
	if err != nil {
		return nil, &Error{File: win.source, Msg: "cannot read: " + err.Error(), Err: err}
	}
	p := &parser{file: win.source, role: r, engine: l.engine(), loader: l, stack: append(slices.Clone(stack), r)}
	if err := p.parse(content); err != nil {
		return nil, err
	}
	if err := l.dependencies(r, p.depLines, stack); err != nil {
		return nil, err
	}
	return r, nil
}

// dependencies loads the roles r depends on (role.yml dependencies:),
// reporting a cycle with the role.yml files that make it.
func (l *Loader) dependencies(r *Role, lines []int, stack []*Role) error {
	stack = append(stack, r)
	for i, dep := range r.DependencyNames {
		for j, s := range stack {
			if s.Name == dep {
				chain := make([]string, 0, len(stack)-j+1)
				for _, c := range stack[j:] {
					chain = append(chain, c.Source)
				}
				return errorf(r.Source, lines[i], "dependency cycle: %s -> %s", strings.Join(chain, " -> "), s.Source)
			}
		}
		d, err := l.loadCached(dep, stack)
		if err != nil {
			var re *Error
			if errors.As(err, &re) && re.File == "" {
				// The role was not found: say who needs it.
				return &Error{File: r.Source, Line: lines[i], Msg: "dependency: " + re.Msg, Err: err}
			}
			return err
		}
		r.Dependencies = append(r.Dependencies, d)
	}
	return nil
}

func (l *Loader) engine() *templates.Engine {
	if l.Templates != nil {
		return l.Templates
	}
	l.Templates = templates.New(templates.Options{})
	return l.Templates
}

func (l *Loader) builtinRoot() fs.FS {
	if l.builtin != nil {
		return l.builtin
	}
	sub, err := fs.Sub(builtinFS, "builtin")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// find returns every place that holds role name, in search order, and the
// places it looked.
func (l *Loader) find(name string) (found []candidate, looked []string, err error) {
	for _, p := range l.Paths {
		dir := filepath.Join(p, name)
		file := filepath.Join(dir, "role.yml")
		looked = append(looked, dir)
		fi, err := os.Stat(file)
		switch {
		case err == nil && fi.Mode().IsRegular():
			found = append(found, candidate{source: file, dir: dir})
		case err == nil:
			return nil, nil, errorf(file, 0, "not a regular file")
		case errors.Is(err, fs.ErrNotExist):
			// A folder of the right name without role.yml is most likely a
			// misnamed file, and silently falling through to a built-in
			// role would hide it.
			if st, derr := os.Stat(dir); derr == nil && st.IsDir() {
				return nil, nil, errorf(dir, 0, "folder has no role.yml")
			}
		default:
			return nil, nil, &Error{File: file, Msg: err.Error(), Err: err}
		}
	}
	if l.Builtin {
		looked = append(looked, "builtin:"+name)
		sub, err := fs.Sub(l.builtinRoot(), name)
		if err == nil {
			if _, err := fs.Stat(sub, "role.yml"); err == nil {
				found = append(found, candidate{source: "builtin:" + name + "/role.yml", builtin: true, fsys: sub})
			}
		}
	}
	return found, looked, nil
}

// available lists the role names found in every search place.
func (l *Loader) available() []string {
	set := map[string]bool{}
	for _, p := range l.Paths {
		entries, _ := os.ReadDir(p)
		for _, e := range entries {
			if e.IsDir() {
				set[e.Name()] = true
			}
		}
	}
	if l.Builtin {
		entries, _ := fs.ReadDir(l.builtinRoot(), ".")
		for _, e := range entries {
			if e.IsDir() {
				set[e.Name()] = true
			}
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// fsSource reads one folder (templates/ or files/) of a role.
type fsSource struct {
	fsys    fs.FS
	dir     string
	display string
}

// ReadFile reads name inside the folder; a name that would leave the
// folder ("../x", "/etc/passwd") is refused.
func (s fsSource) ReadFile(name string) ([]byte, string, error) {
	display := s.display + "/" + name
	clean := path.Clean(filepath.ToSlash(name))
	if !fs.ValidPath(clean) || clean == "." {
		return nil, display, fmt.Errorf("%q must be a relative path inside %s/", name, s.display)
	}
	b, err := fs.ReadFile(s.fsys, s.dir+"/"+clean)
	if err != nil {
		return nil, display, err
	}
	return b, display, nil
}
