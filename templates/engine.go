// Package templates renders ferry's templates: text/template with sprig's
// functions and ferry's own helpers (hosts, hostvar, shellquote, readFile,
// labCA, labCert). Rendering is strict: a missing variable or a null value
// is an error naming the template, the line and the key, never "<no value>".
package templates

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// HostView is one host as templates see it through the hosts function.
type HostView struct {
	Name    string
	Address string
	Vars    map[string]any
}

// Inventory is what the template helpers read of ferry's inventory. It is
// an interface so that templates does not depend on the inventory package.
type Inventory interface {
	// HostsOf returns the hosts of a group in inventory order, and false
	// when the group does not exist.
	HostsOf(group string) ([]HostView, bool)
	// HostVars returns the merged variables of a host, and false when the
	// host does not exist.
	HostVars(host string) (map[string]any, bool)
}

// Options configure an Engine.
type Options struct {
	// Inventory serves hosts and hostvar; nil makes them fail with an error.
	Inventory Inventory
	// BaseDir is the folder relative paths given to readFile start from
	// (the inventory's folder).
	BaseDir string
	// PKI serves labCA and labCert (a pki.LabCA on the inventory's
	// .ferry/pki); nil makes them fail with an error.
	PKI PKI
}

// Engine renders templates. It is safe for concurrent use: many hosts render
// at once. Parsed templates are cached, so each distinct (name, text) pair
// is parsed once for the life of the Engine.
type Engine struct {
	opts  Options
	funcs template.FuncMap

	cache sync.Map // cacheKey -> *entry

	// captures hands typed values from a template action back to
	// RenderValue; see capture.
	captures sync.Map
	seq      atomic.Uint64
	parses   atomic.Int64 // for tests: how many times text was parsed
}

// sprigFuncs is built once: sprig allocates a fresh map of ~200 functions on
// every call.
var sprigFuncs = sprig.TxtFuncMap()

// Internal function names start with an underscore so that they cannot
// collide with sprig's or a user's expectations.
const (
	fnCheckNil = "_ferry_value"
	fnCapture  = "_ferry_capture"
)

// New returns an Engine with its function map built once.
func New(opts Options) *Engine {
	e := &Engine{opts: opts}
	funcs := make(template.FuncMap, len(sprigFuncs)+8)
	for k, v := range sprigFuncs {
		funcs[k] = v
	}
	for k, v := range e.helpers() {
		funcs[k] = v
	}
	funcs[fnCheckNil] = checkNil
	funcs[fnCapture] = e.capture
	e.funcs = funcs
	return e
}

type cacheKey struct{ name, text string }

// entry is one parsed template; once guards the parse so that concurrent
// renders of the same text parse it a single time.
type entry struct {
	once sync.Once
	tmpl *template.Template
	err  error

	// typedOnce guards typed, the variant of a single-action template whose
	// value is captured rather than printed (nil when text is not exactly
	// one action).
	typedOnce sync.Once
	typed     *template.Template
}

func (e *Engine) lookup(name, text string) *entry {
	k := cacheKey{name, text}
	if v, ok := e.cache.Load(k); ok {
		return v.(*entry)
	}
	v, _ := e.cache.LoadOrStore(k, &entry{})
	return v.(*entry)
}

// parsed returns the cached template for text, parsing it on first use.
func (e *Engine) parsed(name, text string) (*entry, error) {
	en := e.lookup(name, text)
	en.once.Do(func() {
		e.parses.Add(1)
		en.tmpl, en.err = e.parse(name, text)
	})
	return en, en.err
}

func (e *Engine) parse(name, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(e.funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, parseError(name, err)
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			guardNil(tt.Tree)
		}
	}
	return t, nil
}

// Check parses text without rendering it, so that syntax errors are found
// when roles load, before anything runs.
func (e *Engine) Check(name, text string) error {
	_, err := e.parsed(name, text)
	return err
}

// Render renders text with data as the template's dot. Errors are *Error
// values naming name, the line and, for a missing key, the key.
func (e *Engine) Render(name, text string, data map[string]any) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	en, err := e.parsed(name, text)
	if err != nil {
		return "", err
	}
	return e.execute(en.tmpl, name, data)
}

func (e *Engine) execute(t *template.Template, name string, data map[string]any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", execError(name, err, data)
	}
	return b.String(), nil
}

// Eval renders a `when:` expression: expr is wrapped in {{ }} unless it
// already holds an action, and must render to "true" or "false".
func (e *Engine) Eval(name, expr string, data map[string]any) (bool, error) {
	text := WrapExpr(expr)
	out, err := e.Render(name, text, data)
	if err != nil {
		return false, err
	}
	switch strings.TrimSpace(out) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	// The rendered value stays out of the message: it may be a secret.
	return false, &Error{File: name, Line: 1, Msg: fmt.Sprintf("condition %q must give true or false", expr)}
}

// WrapExpr turns a condition into a template: "eq .a 1" becomes
// "{{ eq .a 1 }}". Text that already holds an action is kept as it is.
func WrapExpr(expr string) string {
	if strings.Contains(expr, "{{") {
		return expr
	}
	return "{{ " + expr + " }}"
}
