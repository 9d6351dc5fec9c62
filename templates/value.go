package templates

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/ferry-deploy/ferry/internal/vartree"
)

// RenderValue renders every string inside v: maps (map[string]any) and
// lists ([]any, []string) are walked recursively and copied, other values are
// returned as they are. Map keys are not rendered.
//
// A string that is exactly one action ("{{ .backends }}", no text around
// it) keeps the type of the action's value: a list variable stays a list and
// a number stays a number, so that `names: "{{ .packages }}"` passes a list
// to the module. Any other string renders to a string. The kept value is a
// copy, so a module cannot change the variables through it.
//
// Errors name the key path inside v ("args.names[2]").
func (e *Engine) RenderValue(name string, v any, data map[string]any) (any, error) {
	return e.renderValue(name, "", v, data)
}

func (e *Engine) renderValue(name, path string, v any, data map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		out, err := e.renderTyped(name, x, data)
		if err != nil {
			return nil, keyed(err, path)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		// Sorted so that the first error reported does not depend on map order.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			r, err := e.renderValue(name, joinPath(path, k), x[k], data)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		return renderEach(x, path, func(key string, item any) (any, error) {
			return e.renderValue(name, key, item, data)
		})
	case []string:
		return renderEach(x, path, func(key, item string) (string, error) {
			r, err := e.Render(name, item, data)
			return r, keyed(err, key)
		})
	}
	return v, nil
}

// renderEach renders a list's items in order into a new list, stopping at
// the first error; render gets each item's key path ("names[2]").
func renderEach[T any](items []T, path string, render func(key string, item T) (T, error)) (any, error) {
	out := make([]T, len(items))
	for i, item := range items {
		r, err := render(path+"["+strconv.Itoa(i)+"]", item)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// keyed names the key path in a template error that names none yet (the
// template's own errors do not know where in the value it stood).
func keyed(err error, path string) error {
	var te *Error
	if path != "" && errors.As(err, &te) && te.Key == "" {
		c := *te
		c.Key = path
		return &c
	}
	return err
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// renderTyped renders s, keeping the value's type when s is one action.
func (e *Engine) renderTyped(name, s string, data map[string]any) (any, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	en, err := e.parsed(name, s)
	if err != nil {
		return nil, err
	}
	en.typedOnce.Do(func() { en.typed = e.typedVariant(name, en.tmpl) })
	if en.typed == nil {
		return e.execute(en.tmpl, name, data)
	}
	out, err := e.execute(en.typed, name, data)
	if err != nil {
		return nil, err
	}
	v, ok := e.captures.LoadAndDelete(out)
	if !ok {
		// Unreachable while the variant's only output is the capture token.
		return out, nil
	}
	// Copied, so that a kept value shares nothing with the variables it came from.
	return vartree.Copy(v), nil
}

// typedVariant returns a copy of t whose single action hands its value to
// capture instead of printing it, or nil when t is not exactly one action.
func (e *Engine) typedVariant(name string, t *template.Template) *template.Template {
	if t.Tree == nil || t.Tree.Root == nil || len(t.Tree.Root.Nodes) != 1 {
		return nil
	}
	if a, ok := t.Tree.Root.Nodes[0].(*parse.ActionNode); !ok || len(a.Pipe.Decl) > 0 {
		return nil
	}
	tree := t.Tree.Copy()
	a := tree.Root.Nodes[0].(*parse.ActionNode)
	a.Pipe.Cmds = append(a.Pipe.Cmds, &parse.CommandNode{
		NodeType: parse.NodeCommand,
		Pos:      a.Pos,
		Args:     []parse.Node{parse.NewIdentifier(fnCapture).SetTree(tree).SetPos(a.Pos)},
	})
	nt, err := template.New(name).Funcs(e.funcs).Option("missingkey=error").AddParseTree(name, tree)
	if err != nil {
		return nil
	}
	return nt
}

// capture parks v under a unique token and returns the token, which is then
// the whole output of the typed variant. The token holds NUL bytes, which
// a template's own text cannot print by accident next to it, because the
// variant has no text at all.
func (e *Engine) capture(v any) string {
	tok := fmt.Sprintf("\x00ferry-value-%d\x00", e.seq.Add(1))
	e.captures.Store(tok, v)
	return tok
}

// guardNil makes every printing action of tree fail on a null value instead
// of printing "<no value>": `{{ X }}` becomes `{{ X | _ferry_value "X" }}`.
// missingkey=error covers absent keys but not keys whose value is null, nor
// `index` on a missing key.
func guardNil(tree *parse.Tree) {
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch x := n.(type) {
		case *parse.ListNode:
			if x == nil {
				return
			}
			for _, c := range x.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			if len(x.Pipe.Decl) > 0 {
				return // an assignment prints nothing
			}
			expr := x.Pipe.String()
			x.Pipe.Cmds = append(x.Pipe.Cmds, &parse.CommandNode{
				NodeType: parse.NodeCommand,
				Pos:      x.Pos,
				Args: []parse.Node{
					parse.NewIdentifier(fnCheckNil).SetTree(tree).SetPos(x.Pos),
					&parse.StringNode{NodeType: parse.NodeString, Pos: x.Pos, Quoted: strconv.Quote(expr), Text: expr},
				},
			})
		case *parse.IfNode:
			walk(x.List)
			walk(x.ElseList)
		case *parse.RangeNode:
			walk(x.List)
			walk(x.ElseList)
		case *parse.WithNode:
			walk(x.List)
			walk(x.ElseList)
		}
	}
	walk(tree.Root)
}

// nullError reports an action whose value is null.
type nullError struct{ expr string }

func (e *nullError) Error() string { return fmt.Sprintf("%s is null", e.expr) }

func checkNil(expr string, v any) (any, error) {
	if v == nil {
		return nil, &nullError{expr: expr}
	}
	return v, nil
}
