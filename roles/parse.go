package roles

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"

	"github.com/ferry-deploy/ferry/internal/yamlnode"
	"github.com/ferry-deploy/ferry/templates"
	"go.yaml.in/yaml/v3"
)

// parser reads one role.yml into a Role. It works on yaml.Node values
// rather than structs so that every error can name its line.
type parser struct {
	file   string
	role   *Role
	engine *templates.Engine
	// loader loads the roles that include_role and import_role name;
	// stack lists the roles being loaded that lead to this one (the role
	// itself last), to report a cycle.
	loader *Loader
	stack  []*Role
	// chain lists the files that import or include this one, to report
	// a cycle.
	chain []string
	// section is the list being parsed (tasks, handlers, block...).
	section string
	// depLines holds the line of each dependency, for errors.
	depLines []int
}

var topKeys = []string{"defaults", "dependencies", "allow_duplicates", "tasks", "handlers"}

// identRE is what text/template can read as .name: a variable, a register
// name, or a loop variable must match it.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *parser) parse(content []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return errorf(p.file, 0, "empty file; a role needs tasks (see doc/roles.md)")
		}
		return p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return errorf(p.file, extra.Line, "a second YAML document; role.yml holds one")
	} else if !errors.Is(err, io.EOF) {
		return p.yamlError(err)
	}
	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return errorf(p.file, 0, "empty file; a role needs tasks (see doc/roles.md)")
		}
		root = resolve(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		return errorf(p.file, root.Line, "role.yml must be a mapping with %s", quoteList(topKeys))
	}
	pairs, err := p.pairs(root)
	if err != nil {
		return err
	}
	var tasksNode, handlersNode *yaml.Node
	for _, kv := range pairs {
		switch kv.key.Value {
		case "defaults":
			if err := p.defaults(kv.value); err != nil {
				return err
			}
		case "dependencies":
			if err := p.dependencies(kv.value); err != nil {
				return err
			}
		case "allow_duplicates":
			b, err := p.boolean("allow_duplicates", resolve(kv.value))
			if err != nil {
				return err
			}
			p.role.AllowDuplicates = b
		case "tasks":
			tasksNode = kv.value
		case "handlers":
			handlersNode = kv.value
		default:
			return errorf(p.file, kv.key.Line, "unknown key %q%s; a role has %s", kv.key.Value, didYouMean(kv.key.Value, topKeys), quoteList(topKeys))
		}
	}
	// Handlers first: tasks' notify must name one of them.
	if handlersNode != nil {
		hs, err := p.taskList(handlersNode, "handlers")
		if err != nil {
			return err
		}
		seen := map[string]int{}
		for _, h := range hs {
			if prev, dup := seen[h.Name]; dup {
				return errorf(p.file, h.Line, "handler %q is declared twice (first on line %d)", h.Name, prev)
			}
			seen[h.Name] = h.Line
			h.IsHandler = true
		}
		p.role.Handlers = hs
	}
	if tasksNode != nil {
		ts, err := p.taskList(tasksNode, "tasks")
		if err != nil {
			return err
		}
		p.role.Tasks = ts
	}
	if len(p.role.Tasks) == 0 && len(p.role.Handlers) == 0 && len(p.role.Defaults) == 0 && len(p.role.DependencyNames) == 0 {
		return errorf(p.file, root.Line, "the role has no defaults, dependencies, tasks or handlers")
	}
	return nil
}

// dependencies reads the list of roles this one depends on.
func (p *parser) dependencies(n *yaml.Node) error {
	n, err := p.sectionNode(n, yaml.SequenceNode, "dependencies must be a list of role names")
	if n == nil {
		return err
	}
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || item.Tag != "!!str" {
			return errorf(p.file, item.Line, "dependencies must be a list of role names, got %s in the list", kindName(item))
		}
		if contains(p.role.DependencyNames, item.Value) {
			return errorf(p.file, item.Line, "dependency %q is listed twice", item.Value)
		}
		p.role.DependencyNames = append(p.role.DependencyNames, item.Value)
		p.depLines = append(p.depLines, item.Line)
	}
	return nil
}

// sectionNode resolves the node of a role.yml section: nil when the section is
// empty (null), and then an error naming what it must be (want) when it is
// not of kind.
func (p *parser) sectionNode(n *yaml.Node, kind yaml.Kind, want string) (*yaml.Node, error) {
	n = resolve(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != kind {
		return nil, errorf(p.file, n.Line, "%s, got %s", want, kindName(n))
	}
	return n, nil
}

// yamlErrRE finds the line in go-yaml's messages ("yaml: line 3: ...").
var yamlErrRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func (p *parser) yamlError(err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlErrRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserProblems[m[2]] {
			// go-yaml numbers its parser's errors from 0 (its scanner's
			// from 1); one more lands between where the broken collection
			// starts and where the parser gave up.
			line++
		}
		return &Error{File: p.file, Line: line, Msg: "YAML: " + m[2], Err: err}
	}
	return &Error{File: p.file, Msg: "YAML: " + trimYAMLPrefix(msg), Err: err}
}

// parserProblems are the messages of go-yaml's parser errors (parserc.go),
// as opposed to its scanner's.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

func trimYAMLPrefix(s string) string {
	if len(s) > 6 && s[:6] == "yaml: " {
		return s[6:]
	}
	return s
}

func (p *parser) defaults(n *yaml.Node) error {
	n, err := p.sectionNode(n, yaml.MappingNode, "defaults must be a mapping of variables")
	if n == nil {
		return err
	}
	pairs, err := p.pairs(n)
	if err != nil {
		return err
	}
	defs := make(map[string]any, len(pairs))
	for _, kv := range pairs {
		if !identRE.MatchString(kv.key.Value) {
			return errorf(p.file, kv.key.Line, "variable name %q cannot be read in templates; use letters, digits and _", kv.key.Value)
		}
		v, err := p.decode(kv.value)
		if err != nil {
			return err
		}
		defs[kv.key.Value] = v
	}
	p.role.Defaults = defs
	return nil
}

// keyValue is one entry of a YAML mapping.
type keyValue struct{ key, value *yaml.Node }

// pairs returns a mapping's entries, rejecting duplicate and non-scalar
// keys (go-yaml keeps duplicates in a Node and would silently pick one when
// decoding).
func (p *parser) pairs(n *yaml.Node) ([]keyValue, error) {
	out := make([]keyValue, 0, len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, errorf(p.file, k.Line, "a key must be a plain name, got %s", kindName(k))
		}
		if k.Value == "<<" {
			return nil, errorf(p.file, k.Line, "YAML merge keys (<<) are not supported in role.yml")
		}
		if prev, dup := seen[k.Value]; dup {
			return nil, errorf(p.file, k.Line, "duplicate key %q (first on line %d)", k.Value, prev)
		}
		seen[k.Value] = k.Line
		out = append(out, keyValue{k, v})
	}
	return out, nil
}

// decode turns a node into plain Go values (map[string]any, []any,
// string, int, float64, bool, nil).
func (p *parser) decode(n *yaml.Node) (any, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, p.yamlError(err)
	}
	return v, nil
}

// The node helpers shared with the inventory loader.
var (
	resolve  = yamlnode.Resolve
	isNull   = yamlnode.IsNull
	kindName = yamlnode.KindName
)

func quoteList(list []string) string {
	var b bytes.Buffer
	for i, s := range list {
		switch {
		case i == 0:
		case i == len(list)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	return b.String()
}
