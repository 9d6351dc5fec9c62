package templates

import (
	"errors"
	"fmt"
	"github.com/ferry-deploy/ferry/internal/fileerr"
	"github.com/ferry-deploy/ferry/internal/suggest"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Error is a template that failed to parse or render: ferry's one
// file:line error, whose File is the template's name and Key the path of
// the value inside RenderValue's argument, if any. Its text reads
// "NAME:LINE: [KEY: ]MSG", for example
// `templates/site.conf.tmpl:12: no variable "nginx_prot" (did you mean "nginx_port"?)`.
type Error = fileerr.Error

// text/template's messages start with "template: NAME:LINE:" for parse
// errors and "template: NAME:LINE:COL: executing "NAME" at <NODE>: " for
// execution errors. The name is known, so it is cut off first, because a
// name may itself contain colons ("builtin:nginx/...").
var (
	parseLineRE = regexp.MustCompile(`^(\d+):(?:\d+:)? ?(.*)$`)
	execRE      = regexp.MustCompile(`(?s)^(\d+):\d+: executing "(?:[^"\\]|\\.)*" at <(.*?)>: (.*)$`)
)

func parseError(name string, err error) error {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "template: "+name+":")
	if !ok {
		return &Error{File: name, Msg: msg, Err: err}
	}
	if m := parseLineRE.FindStringSubmatch(rest); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: "syntax: " + m[2], Err: err}
	}
	return &Error{File: name, Msg: strings.TrimSpace(rest), Err: err}
}

var (
	missingKeyRE = regexp.MustCompile(`^map has no entry for key "(.*)"$`)
	nilDataRE    = regexp.MustCompile(`^nil data; no entry for key "(.*)"$`)
	nilPtrRE     = regexp.MustCompile(`^nil pointer evaluating (.*)\.(\w+)$`)
	noFieldRE    = regexp.MustCompile(`^can't evaluate field (\w+) in type (.*)$`)
	callRE       = regexp.MustCompile(`(?s)^error calling (\w+): (.*)$`)
)

// execError turns a text/template execution error into an *Error with a
// message in ferry's words; data serves the "did you mean" suggestions.
func execError(name string, err error, data map[string]any) error {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "template: "+name+":")
	if !ok {
		return &Error{File: name, Msg: msg, Err: err}
	}
	m := execRE.FindStringSubmatch(rest)
	if m == nil {
		return &Error{File: name, Msg: strings.TrimSpace(rest), Err: err}
	}
	line, _ := strconv.Atoi(m[1])
	node, detail := m[2], m[3]
	out := &Error{File: name, Line: line, Err: err}

	var ne *nullError
	switch {
	case errors.As(err, &ne):
		out.Msg = fmt.Sprintf("%s has no value (it is null or missing)", ne.expr)
	case missingKeyRE.MatchString(detail) || nilDataRE.MatchString(detail):
		key := missingKeyRE.FindStringSubmatch(detail)
		if key == nil {
			key = nilDataRE.FindStringSubmatch(detail)
		}
		out.Msg = missingKey(node, key[1], data)
	case nilPtrRE.MatchString(detail):
		f := nilPtrRE.FindStringSubmatch(detail)
		out.Msg = fmt.Sprintf("cannot read %q of a null value in %s", f[2], node)
	case noFieldRE.MatchString(detail):
		f := noFieldRE.FindStringSubmatch(detail)
		if f[2] == "interface {}" {
			// The static type says nothing; the value is a scalar or list.
			out.Msg = fmt.Sprintf("cannot read %q in %s: the value is not a map", f[1], node)
		} else {
			out.Msg = fmt.Sprintf("cannot read %q in %s: a %s has no such field or key", f[1], node, friendlyType(f[2]))
		}
	case callRE.MatchString(detail):
		f := callRE.FindStringSubmatch(detail)
		out.Msg = f[1] + ": " + f[2]
		if !strings.HasPrefix(node, f[1]) {
			out.Msg = node + ": " + out.Msg
		}
	default:
		out.Msg = node + ": " + detail
	}
	return out
}

// missingKey words a missing key. node is the failing field chain as
// written (".facts.os_idd", "$.x", "$item.name"); when it reads from the
// data's root, the existing keys at that level serve the suggestion.
func missingKey(node, key string, data map[string]any) string {
	chain, fromRoot := fieldChain(node)
	// Report the chain up to the missing key: in .a.b.c with b missing,
	// the variable that does not exist is a.b.
	i := indexOf(chain, key)
	if i < 0 {
		return fmt.Sprintf("no variable %q", key)
	}
	parent, found := walk(data, chain[:i])
	if !fromRoot || !found {
		// The chain starts at a loop variable or at dot inside range or
		// with: name the key and where it was looked up.
		return fmt.Sprintf("no key %q in %s", key, strings.TrimSuffix(node, "."+strings.Join(chain[i:], ".")))
	}
	msg := fmt.Sprintf("no variable %q", strings.Join(chain[:i+1], "."))
	if s := suggest.Closest(key, slices.Sorted(maps.Keys(parent))); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", strings.Join(append(append([]string(nil), chain[:i]...), s), "."))
	}
	return msg
}

// fieldChain splits ".a.b" or "$.a.b" into [a b]; fromRoot is false for
// chains on a variable ("$item.name"), whose root is not the data. A chain
// on dot inside range or with is taken as rooted too: the suggestion is then
// a guess, and it is only made when that key really is absent from the data.
func fieldChain(node string) (chain []string, fromRoot bool) {
	node = strings.TrimSpace(node)
	switch {
	case strings.HasPrefix(node, "$."):
		node, fromRoot = node[1:], true
	case strings.HasPrefix(node, "."):
		fromRoot = true
	case strings.HasPrefix(node, "$"):
		j := strings.IndexByte(node, '.')
		if j < 0 {
			return nil, false
		}
		node = node[j:]
	default:
		return nil, false
	}
	return strings.Split(strings.TrimPrefix(node, "."), "."), fromRoot
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// walk follows path through nested maps from data.
func walk(data map[string]any, path []string) (map[string]any, bool) {
	m := data
	for _, p := range path {
		next, ok := m[p].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}

func friendlyType(t string) string {
	switch {
	case t == "string":
		return "string"
	case strings.HasPrefix(t, "[]"):
		return "list"
	case strings.HasPrefix(t, "map["):
		return "map"
	case strings.HasSuffix(t, "HostView"):
		return "host (fields Name, Address, Vars)"
	}
	return t
}
