package templates

import (
	"errors"
	"fmt"
	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/internal/suggest"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"text/template"
)

// helpers returns ferry's own template functions, bound to the Engine's
// inventory, folders and PKI.
func (e *Engine) helpers() template.FuncMap {
	return template.FuncMap{
		"hosts":      e.hosts,
		"hostvar":    e.hostvar,
		"shellquote": ShellQuote,
		"readFile":   e.readFile,
		"labCA":      e.labCA,
		"labCert":    e.labCert,
	}
}

// errNoInventory is returned by hosts and hostvar when the Engine has no
// inventory (a syntax check, or a test).
var errNoInventory = errors.New("no inventory")

func (e *Engine) hosts(group string) ([]HostView, error) {
	if e.opts.Inventory == nil {
		return nil, errNoInventory
	}
	hs, ok := e.opts.Inventory.HostsOf(group)
	if !ok {
		// A typo in a group name would otherwise render an empty backend
		// list, which is valid configuration and wrong.
		return nil, fmt.Errorf("no group %q in the inventory", group)
	}
	return hs, nil
}

func (e *Engine) hostvar(host, name string) (any, error) {
	if e.opts.Inventory == nil {
		return nil, errNoInventory
	}
	vars, ok := e.opts.Inventory.HostVars(host)
	if !ok {
		return nil, fmt.Errorf("no host %q in the inventory", host)
	}
	v, ok := vars[name]
	if !ok {
		msg := fmt.Sprintf("host %q has no variable %q", host, name)
		if s := suggest.Closest(name, slices.Sorted(maps.Keys(vars))); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, errors.New(msg)
	}
	return v, nil
}

// ShellQuote quotes v for a POSIX shell: the result is one word whose
// value is exactly v's text. Single quotes keep everything literal; a
// single quote inside ends the quoting, adds an escaped quote (\') and
// starts quoting again. A NUL byte cannot be carried
// in a shell word, so it is an error.
func ShellQuote(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case nil:
		return "", errors.New("cannot quote a null value")
	default:
		s = fmt.Sprint(x)
	}
	if err := shell.CheckWord(s); err != nil {
		return "", err
	}
	return shell.Literal(s), nil
}

func (e *Engine) readFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("empty path")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(e.opts.BaseDir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err // an *fs.PathError, which names the path already
	}
	return string(b), nil
}
