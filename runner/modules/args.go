package modules

import (
	"fmt"
	"io/fs"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/modspec"
)

// register adds a module whose factory gets its arguments through an
// argReader, so that unknown and missing arguments are rejected the same way
// for every module and Spec.Args can never drift from what the factory reads.
func register(name string, args, required []string, build func(a *argReader) (Module, error)) {
	Register(newSpec(name, args, required, args, required, build))
}

// newSpec builds a Spec whose user-facing Args and Required (checked by the
// role loader) may differ from what the factory accepts (after the engine
// rewrote the arguments, as it does for template's src).
func newSpec(name string, args, required, factoryArgs, factoryRequired []string, build func(a *argReader) (Module, error)) Spec {
	return Spec{
		Name: name, Args: args, Required: required,
		New: func(m map[string]any) (Module, error) {
			a := newArgReader(name, m, factoryArgs, factoryRequired)
			if a.err != nil {
				return nil, a.err
			}
			mod, err := build(a)
			if a.err != nil {
				return nil, a.err
			}
			if err != nil {
				return nil, err
			}
			return mod, nil
		},
	}
}

// withFile marks the argument of s that names a file of the role on the
// controller.
func withFile(s Spec, fa modspec.FileArg) Spec {
	s.Files = append(s.Files, fa)
	return s
}

// argReader reads one task's arguments and keeps the first error, so that a
// factory reads every argument in a straight line and checks once.
type argReader struct {
	module string
	m      map[string]any
	err    error
}

func newArgReader(module string, m map[string]any, allowed, required []string) *argReader {
	a := &argReader{module: module, m: m}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(allowed, k) {
			a.fail(k, "unknown argument (valid: %s)", strings.Join(allowed, ", "))
			return a
		}
	}
	for _, k := range required {
		if v, ok := m[k]; !ok || v == nil {
			a.fail(k, "required")
			return a
		}
	}
	return a
}

func (a *argReader) fail(name, format string, args ...any) {
	if a.err == nil {
		a.err = fmt.Errorf("%s: argument %s: %s", a.module, name, fmt.Sprintf(format, args...))
	}
}

func (a *argReader) has(name string) bool {
	_, ok := a.value(name)
	return ok
}

// value is the argument's raw value; an argument given as null (an empty
// YAML value, a variable rendered to nothing) counts as not given.
func (a *argReader) value(name string) (any, bool) {
	v, ok := a.m[name]
	return v, ok && v != nil
}

// str reads a string; numbers are accepted because YAML and templates turn
// "3306" into either.
func (a *argReader) str(name, def string) string {
	v, ok := a.value(name)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case string:
		return x
	case int, int64, uint64, float64:
		return fmt.Sprint(x)
	}
	a.fail(name, "want a string, got %T", v)
	return def
}

// oneOf reads a string that must be one of allowed.
func (a *argReader) oneOf(name, def string, allowed ...string) string {
	s := a.str(name, def)
	if !slices.Contains(allowed, s) {
		a.fail(name, "%q is not one of %s", s, strings.Join(allowed, ", "))
	}
	return s
}

// presence reads the state of a module that only adds or removes its
// object: "present" (the default) or "absent".
func (a *argReader) presence() string {
	return a.oneOf("state", "present", "present", "absent")
}

// accountID reads a uid or gid, the same range for users and groups; -1
// when not given, so the id is left to useradd or groupadd.
func (a *argReader) accountID(name string) int {
	return a.integer(name, -1, 0, 1<<31-2)
}

// boolean accepts YAML booleans and the strings a rendered template yields.
func (a *argReader) boolean(name string, def bool) bool {
	v, ok := a.value(name)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "on", "1":
			return true
		case "false", "no", "off", "0":
			return false
		}
	}
	a.fail(name, "want true or false, got %v", v)
	return def
}

// integer reads a whole number within [lo, hi].
func (a *argReader) integer(name string, def, lo, hi int) int {
	v, ok := a.value(name)
	if !ok {
		return def
	}
	var n int
	switch x := v.(type) {
	case int:
		n = x
	case int64:
		n = int(x)
	case uint64:
		if x > math.MaxInt32 {
			a.fail(name, "%d is out of range %d-%d", x, lo, hi)
			return def
		}
		n = int(x)
	case float64:
		if x != math.Trunc(x) {
			a.fail(name, "want a whole number, got %v", x)
			return def
		}
		n = int(x)
	case string:
		var err error
		if n, err = strconv.Atoi(strings.TrimSpace(x)); err != nil {
			a.fail(name, "want a whole number, got %q", x)
			return def
		}
	default:
		a.fail(name, "want a whole number, got %T", v)
		return def
	}
	if n < lo || n > hi {
		a.fail(name, "%d is out of range %d-%d", n, lo, hi)
	}
	return n
}

// list reads a list of strings; a single string is a list of one.
func (a *argReader) list(name string) []string {
	v, ok := a.value(name)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return append([]string(nil), x...)
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				switch e.(type) {
				case int, int64, uint64, float64:
					s = fmt.Sprint(e)
				default:
					a.fail(name, "item %d: want a string, got %T", i, e)
					return nil
				}
			}
			out = append(out, s)
		}
		return out
	}
	a.fail(name, "want a list of strings, got %T", v)
	return nil
}

// mode reads an octal permission string such as "0644". Integers are
// refused: YAML reads an unquoted 0644 as 420 and 644 as decimal, and
// guessing which was meant is how files end up world-writable.
func (a *argReader) mode(name string) (fs.FileMode, bool) {
	v, ok := a.value(name)
	if !ok {
		return 0, false
	}
	s, isStr := v.(string)
	if !isStr {
		a.fail(name, "want a quoted octal string such as \"0644\", got %v", v)
		return 0, false
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 || len(s) < 3 {
		a.fail(name, "%q is not an octal mode such as \"0644\"", s)
		return 0, false
	}
	return executor.ModeFromBits(uint32(n)), true
}

func modeString(m fs.FileMode) string { return fmt.Sprintf("%04o", executor.ModeBits(m)) }
