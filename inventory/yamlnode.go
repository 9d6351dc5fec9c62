package inventory

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/internal/yamlnode"
	"go.yaml.in/yaml/v3"
)

// yamlFile reads YAML through its node tree so that every value keeps its
// line for error messages. It reports into p and tags errors with file.
type yamlFile struct {
	file string
	p    *problems
	// yaml11 types values as Ansible's PyYAML does (see decodeYAML11).
	yaml11 bool
}

var yamlErrRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// parse returns the document's root node, nil for an empty document, or
// reports a syntax error.
func (y yamlFile) parse(data []byte) (*yaml.Node, bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		y.p.addErr(yamlSyntaxError(y.file, err))
		return nil, false
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, true
	}
	return deref(doc.Content[0]), true
}

// yamlSyntaxError turns the parser's "yaml: line 3: msg" into an *Error.
func yamlSyntaxError(file string, err error) *Error {
	msg := err.Error()
	line := 0
	if m := yamlErrRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg, Err: err}
}

// The node helpers shared with the role loader.
var (
	deref    = yamlnode.Resolve
	isNull   = yamlnode.IsNull
	kindName = yamlnode.KindName
)

// mapping calls fn for each key of n in order. It reports a value that is not
// a mapping, duplicate keys and, when allowed is not nil, keys outside it
// (with the closest valid key suggested). what names the place for messages:
// `in group "db"`.
func (y yamlFile) mapping(n *yaml.Node, what string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		y.p.add(y.file, n.Line, "expected a mapping %s, found %s", what, kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			y.p.add(y.file, n.Content[i].Line, "keys %s must be plain names", what)
			continue
		}
		if k.Value == "<<" {
			y.p.add(y.file, k.Line, "merge keys (<<) are not supported %s; write the keys out", what)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			y.p.add(y.file, k.Line, "duplicate key %q %s (first at line %d)", k.Value, what, prev)
			continue
		}
		seen[k.Value] = k.Line
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			y.p.add(y.file, k.Line, "unknown key %q %s%s", k.Value, what, suggest(k.Value, allowed))
			continue
		}
		fn(k.Value, k, v)
	}
}

// scalar returns the text of a scalar node or reports what was found.
func (y yamlFile) scalar(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		found := "nothing"
		if n != nil && !isNull(n) {
			found = kindName(n)
		}
		line := 0
		if n != nil {
			line = n.Line
		}
		y.p.add(y.file, line, "%s must be a single value, found %s", what, found)
		return "", false
	}
	return n.Value, true
}

// names returns a list of non-empty, unique names (roles, children, order).
func (y yamlFile) names(n *yaml.Node, what string) []ref {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		y.p.add(y.file, n.Line, "%s must be a list, found %s", what, kindName(n))
		return nil
	}
	var out []ref
	seen := map[string]bool{}
	for _, item := range n.Content {
		s, ok := y.scalar(item, "each entry of "+what)
		if !ok {
			continue
		}
		if s = strings.TrimSpace(s); s == "" {
			y.p.add(y.file, item.Line, "empty name in %s", what)
			continue
		}
		if seen[s] {
			y.p.add(y.file, item.Line, "%q is listed twice in %s", s, what)
			continue
		}
		seen[s] = true
		out = append(out, ref{name: s, file: y.file, line: item.Line})
	}
	return out
}

// vars decodes a mapping of variables, each with its line.
func (y yamlFile) vars(n *yaml.Node, what string) []varEntry {
	var out []varEntry
	y.mapping(n, what, nil, func(key string, k, v *yaml.Node) {
		if line := vaultLine(v); line > 0 {
			y.p.add(y.file, line, "variable %q: Ansible Vault values (!vault) are not supported: put the secret in ferry's secrets file", key)
			return
		}
		var val any
		var err error
		if y.yaml11 {
			val, err = decodeYAML11(v)
		} else {
			err = v.Decode(&val)
		}
		if err != nil {
			y.p.add(y.file, v.Line, "variable %q: %v", key, err)
			return
		}
		out = append(out, varEntry{key: key, value: val, at: ref{file: y.file, line: k.Line}})
	})
	return out
}

// vaultLine is the line of the first !vault value in n, 0 when none: the
// decoder would otherwise take the ciphertext for the value.
func vaultLine(n *yaml.Node) int {
	n = deref(n)
	if n == nil {
		return 0
	}
	if n.Tag == "!vault" {
		return n.Line
	}
	for _, c := range n.Content {
		if l := vaultLine(c); l > 0 {
			return l
		}
	}
	return 0
}
