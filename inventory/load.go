package inventory

import (
	"os"
	"path/filepath"
	"strings"
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
	yamlFormat := isYAMLName(path)
	if yamlFormat {
		parseYAML(b, data)
	} else {
		parseINI(b, data)
	}
	// Files beside the inventory refer to its groups and hosts: reading them
	// after a broken inventory would only add follow-on errors.
	if len(b.list) > 0 {
		return nil, b.err()
	}
	b.loadVarsDirs()
	if !yamlFormat {
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

func isYAMLName(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yml" || ext == ".yaml"
}

// parseBytes builds an inventory from one file's content alone (no files
// beside it): what the fuzz targets exercise.
func parseBytes(path string, data []byte, yamlFormat bool) (*Inventory, error) {
	b := newBuilder(path)
	if yamlFormat {
		parseYAML(b, data)
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
