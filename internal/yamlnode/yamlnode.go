// Package yamlnode holds the helpers every reader of ferry's YAML files
// (inventories, site files, roles) uses on go-yaml's node tree, which keeps
// each value's line for error messages.
package yamlnode

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// maxAliasDepth bounds how many aliases Resolve follows, so that a cycle
// cannot hang it.
const maxAliasDepth = 16

// Resolve follows aliases (*anchor) to the node they stand for.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < maxAliasDepth; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports an absent value ("key:" or "key: ~").
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// KindName words a node's type for error messages: "a mapping", "a list",
// "a number", or a string's quoted value.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected YAML node"
}
