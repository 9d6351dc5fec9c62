package roles

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/ferry-deploy/ferry/runner/modspec"
	"github.com/ferry-deploy/ferry/templates"
	"go.yaml.in/yaml/v3"
)

// moduleArgs checks a module's arguments against its Spec and returns them
// decoded, still unrendered.
func (p *parser) moduleArgs(module string, key, v *yaml.Node) (map[string]any, error) {
	spec, _ := modspec.Lookup(module)
	v = resolve(v)
	args := map[string]any{}
	argLines := map[string]*yaml.Node{}
	switch {
	case isNull(v):
	case v.Kind != yaml.MappingNode:
		return nil, errorf(p.file, v.Line, "arguments of module %q must be a mapping (key: value), got %s", module, kindName(v))
	default:
		pairs, err := p.pairs(v)
		if err != nil {
			return nil, err
		}
		for _, kv := range pairs {
			k := kv.key.Value
			if spec.AnyArgs && !identRE.MatchString(k) {
				return nil, errorf(p.file, kv.key.Line, "%s: variable name %q cannot be read in templates; use letters, digits and _", module, k)
			}
			if !spec.AnyArgs && !contains(spec.Args, k) {
				return nil, errorf(p.file, kv.key.Line, "module %q has no argument %q%s; it takes %s",
					module, k, didYouMean(k, spec.Args), strings.Join(spec.Args, ", "))
			}
			val, err := p.decode(kv.value)
			if err != nil {
				return nil, err
			}
			if module == "assert" && k == "that" {
				// Conditions as when: has them, rendered to true or false.
				if val, err = p.assertThat(kv.value); err != nil {
					return nil, err
				}
			} else if err := p.checkStrings(k, kv.value); err != nil {
				return nil, err
			}
			args[k] = val
			argLines[k] = resolve(kv.value)
		}
	}
	for _, r := range spec.Required {
		if args[r] == nil {
			return nil, errorf(p.file, key.Line, "module %q needs argument %q", module, r)
		}
	}
	for _, fa := range spec.Files {
		if n := argLines[fa.Arg]; n != nil && !fa.OnTarget(args) {
			if err := p.checkFile(fa, n); err != nil {
				return nil, err
			}
		}
	}
	return args, nil
}

// checkFile makes sure a src: names a file of the role, and that a
// template file parses. A src that is itself a template is only known per
// host, so it is left to the run.
func (p *parser) checkFile(fa modspec.FileArg, n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return errorf(p.file, n.Line, "%s must be a file name, got %s", fa.Arg, kindName(n))
	}
	if strings.Contains(n.Value, "{{") {
		return nil
	}
	src := p.role.Folder(fa.Folder)
	if src == nil {
		return errorf(p.file, n.Line, "%s: the role has no %s/ folder", fa.Arg, fa.Folder)
	}
	content, display, err := src.ReadFile(n.Value)
	if errors.Is(err, fs.ErrNotExist) {
		hint := ""
		if l, ok := src.(interface{ names() []string }); ok {
			hint = didYouMean(n.Value, l.names())
		}
		return errorf(p.file, n.Line, "%s: %s not found%s", fa.Arg, display, hint)
	}
	if err != nil {
		return &Error{File: p.file, Line: n.Line, Msg: fa.Arg + ": " + err.Error(), Err: err}
	}
	if fa.Folder != modspec.Templates {
		return nil
	}
	if err := p.engine.Check(display, string(content)); err != nil {
		var te *templates.Error
		if errors.As(err, &te) {
			return &Error{File: display, Line: te.Line, Msg: te.Msg, Err: err}
		}
		return &Error{File: display, Msg: err.Error(), Err: err}
	}
	return nil
}

// checkStrings parses every string under n that holds an action, so that
// a template syntax error in an argument is found at load time.
func (p *parser) checkStrings(what string, n *yaml.Node) error {
	n = resolve(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!str" && strings.Contains(n.Value, "{{") {
			return p.checkTemplate(what, n, n.Value)
		}
	case yaml.SequenceNode, yaml.MappingNode:
		for _, c := range n.Content {
			if err := p.checkStrings(what, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTemplate parses text, the template held by node n, and reports a
// syntax error at its line in role.yml.
func (p *parser) checkTemplate(what string, n *yaml.Node, text string) error {
	err := p.engine.Check(p.file, text)
	if err == nil {
		return nil
	}
	line := n.Line
	var te *templates.Error
	if errors.As(err, &te) {
		if te.Line > 1 {
			line += te.Line - 1
		}
		// A block scalar's text starts on the line after its indicator.
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			line++
		}
		return &Error{File: p.file, Line: line, Msg: fmt.Sprintf("%s: template %s", what, te.Msg), Err: err}
	}
	return &Error{File: p.file, Line: line, Msg: what + ": " + err.Error(), Err: err}
}

// names lists the files of the folder, for suggestions.
func (s fsSource) names() []string {
	var out []string
	_ = fs.WalkDir(s.fsys, s.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(path, s.dir+"/"))
		}
		return nil
	})
	return out
}

// assertThat turns assert's conditions (one or a list of expressions like
// when:) into templates that render to true or false.
func (p *parser) assertThat(n *yaml.Node) (any, error) {
	n = resolve(n)
	one := func(c *yaml.Node) (string, error) {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode || isNull(c) {
			return "", errorf(p.file, c.Line, "that must be an expression or a list of expressions (eq .x \"y\"), got %s", kindName(c))
		}
		text := templates.WrapExpr(c.Value)
		return text, p.checkTemplate("that", c, text)
	}
	if n.Kind != yaml.SequenceNode {
		return one(n)
	}
	if len(n.Content) == 0 {
		return nil, errorf(p.file, n.Line, "that: list at least one condition")
	}
	out := make([]any, len(n.Content))
	for i, c := range n.Content {
		s, err := one(c)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}
