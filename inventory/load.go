package inventory

import (
	"fmt"
	"os"
	"slices"

	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the inventory at path: ferry's YAML when the name ends in .yml
// or .yaml, an Ansible INI inventory otherwise. It also reads group_vars/
// and host_vars/ beside it, the site file (SiteFile) beside an INI
// inventory, and the secrets file a YAML inventory names.
//
// Every problem is an *Error naming file and line; when there are several,
// Load returns them all as an ErrorList. Nothing partial is returned.
func Load(path string) (*Inventory, error) { return load(path, true) }

// LoadTopology reads an inventory like Load but leaves its secrets file
// alone: for commands that need only hosts and connections, such as the
// lab, which itself writes the secrets file its inventory names.
func LoadTopology(path string) (*Inventory, error) { return load(path, false) }

func load(path string, withSecrets bool) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read inventory: " + errText(err), Err: err}
	}
	b := newBuilder(path)
	parseAny(b, data)
	// Files beside the inventory refer to its groups and hosts: reading them
	// after a broken inventory would only add follow-on errors.
	if len(b.list) > 0 {
		return nil, b.err()
	}
	b.loadVarsDirs()
	if b.ansible {
		b.loadSite(filepath.Join(b.dir, SiteFile))
	}
	b.finish()
	if withSecrets && b.secrets.name != "" && len(b.list) == 0 {
		b.loadSecrets()
	}
	b.checkBecome()
	if err := b.err(); err != nil {
		return nil, err
	}
	return b.inv, nil
}

// parseAny reads one inventory file in whichever format it is written: a
// dynamic inventory script (executable, see loadScript); JSON in the shape
// of ansible-inventory --list (.json); ferry's YAML or Ansible's YAML
// (.yml, .yaml, or .json in YAML's shape; told apart by shape); otherwise
// Ansible's INI.
func parseAny(b *builder, data []byte) {
	if isScript(b.file, data) {
		loadScript(b)
		return
	}
	if strings.EqualFold(filepath.Ext(b.file), ".json") && isListJSON(data) {
		parseListJSON(b, data, "JSON inventory", nil)
		return
	}
	if isYAMLName(b.file) || strings.EqualFold(filepath.Ext(b.file), ".json") {
		parseYAMLFile(b, data)
		return
	}
	parseINI(b, data)
}

// parseYAMLFile reads ferry's YAML format or Ansible's, by shape.
func parseYAMLFile(b *builder, data []byte) {
	y := yamlFile{file: b.file, p: &b.problems}
	root, ok := y.parse(data)
	if !ok {
		return
	}
	if isAnsibleYAML(root) {
		parseAnsibleYAML(b, y, root)
		return
	}
	if line, key, ok := neitherYAMLShape(root); ok {
		why := ""
		if key != "" {
			why = fmt.Sprintf("; %q is not one of them%s", key, suggest(key, ansibleGroupKeys))
		}
		b.add(b.file, line, "neither ferry's inventory format (top-level groups:, vars:, connection:, order:, secrets:) "+
			"nor Ansible's (groups at the top level, such as all:, each with only hosts:, children: and vars:)%s", why)
		return
	}
	parseYAML(b, y, root)
}

// neitherYAMLShape reports a mapping none of whose keys is, or is a likely
// typo of, a key of ferry's format, with the line and name of the first
// group key that Ansible's shape does not have.
func neitherYAMLShape(root *yaml.Node) (int, string, bool) {
	if root == nil || root.Kind != yaml.MappingNode {
		return 0, "", false
	}
	line, key := root.Line, ""
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := deref(root.Content[i])
		if slices.Contains(topKeys, k.Value) || suggest(k.Value, topKeys) != "" {
			return 0, "", false
		}
		if v := deref(root.Content[i+1]); v.Kind == yaml.MappingNode && key == "" {
			for j := 0; j < len(v.Content); j += 2 {
				if kk := deref(v.Content[j]); !slices.Contains(ansibleGroupKeys, kk.Value) {
					line, key = kk.Line, kk.Value
					break
				}
			}
		}
	}
	return line, key, true
}

func isYAMLName(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yml" || ext == ".yaml"
}

// parseBytes builds an inventory from one file's content alone (no files
// beside it): what the fuzz targets exercise.
func parseBytes(path string, data []byte, yamlFormat bool) (*Inventory, error) {
	b := newBuilder(path)
	if yamlFormat {
		parseYAMLFile(b, data)
	} else {
		parseINI(b, data)
	}
	if len(b.list) == 0 {
		b.finish()
	}
	if err := b.err(); err != nil {
		return nil, err
	}
	return b.inv, nil
}
