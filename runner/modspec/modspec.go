// Package modspec describes ferry's modules to those who check tasks before
// anything runs: each module's name, its arguments, and which of them name
// files of the role on the controller. It holds no code that touches a
// host, so the role loader validates roles without importing the modules;
// runner/modules registers every module here as it registers its factory.
package modspec

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Folder is a folder of a role that a file argument reads from.
type Folder string

// The folders of a role that file arguments name files in.
const (
	// Files holds files copied as they are.
	Files Folder = "files"
	// Templates holds templates, checked at load time and rendered per host.
	Templates Folder = "templates"
)

// FileArg is an argument whose value names a file of the role. The role
// loader checks that the file exists (and that a template parses); the
// engine reads it on the controller (rendering a template for the host)
// and hands the module the text in argument Into instead, so modules never
// read the controller's disk.
type FileArg struct {
	// Arg is the argument naming the file ("src").
	Arg string
	// Folder is the role's folder the name is relative to.
	Folder Folder
	// Into is the argument that receives the file's content ("content").
	Into string
	// Unless names an argument that, when true, makes Arg a path on the
	// target instead (unarchive's remote_src): nothing is read or checked.
	Unless string
}

// OnTarget tells whether args make the file argument a path on the target
// (Unless is set and not false: true, or a template only the run decides).
func (f FileArg) OnTarget(args map[string]any) bool {
	if f.Unless == "" {
		return false
	}
	v, set := args[f.Unless]
	if !set || v == nil || v == false {
		return false
	}
	if s, ok := v.(string); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "false", "no", "off", "0":
			return false
		}
	}
	return true
}

// Spec is what the loader knows of a module.
type Spec struct {
	Name string
	// Args lists the argument names the module accepts, so that the role
	// loader can reject unknown arguments before anything runs.
	Args []string
	// Required lists the arguments that must be present.
	Required []string
	// AnyArgs: every argument is a variable name (set_fact); the loader
	// checks only that it can be read in templates.
	AnyArgs bool
	// Files lists the arguments that name files of the role.
	Files []FileArg
}

// FileArg returns the file argument of the spec called arg, if any.
func (s Spec) FileArg(arg string) (FileArg, bool) {
	for _, f := range s.Files {
		if f.Arg == arg {
			return f, true
		}
	}
	return FileArg{}, false
}

var (
	mu       sync.RWMutex
	registry = map[string]Spec{}
)

// Register adds a module's spec; it panics on a duplicate name (a
// programming error).
func Register(s Spec) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[s.Name]; dup {
		panic(fmt.Sprintf("modspec: %q registered twice", s.Name))
	}
	registry[s.Name] = s
}

// Lookup returns the spec registered under name.
func Lookup(name string) (Spec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := registry[name]
	return s, ok
}

// Names lists the registered modules, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
