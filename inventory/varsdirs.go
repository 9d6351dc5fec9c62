package inventory

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// varsExtensions are the endings Ansible tries after the bare name, in
// order (YAML_FILENAME_EXTENSIONS).
var varsExtensions = []string{"", ".yml", ".yaml", ".json"}

// loadVarsDirs reads group_vars/ and host_vars/ beside the inventory, as
// Ansible's host_group_vars plugin does: for each NAME, the first of NAME
// (a file or a folder), NAME.yml, NAME.yaml and NAME.json that exists; a
// folder gives all its files with one of those endings or none, in name
// order and recursively, hidden files and backups (name~) left out. Later
// files replace the keys of earlier ones.
//
// In ferry's own format a file for a group or host the inventory does not
// have is an error: it is nearly always a typo that would otherwise
// silently do nothing; so are two candidates for one NAME, since only one
// would be read. Ansible's formats ignore both, as Ansible does.
func (b *builder) loadVarsDirs() {
	for _, kind := range []string{"group", "host"} {
		dir := filepath.Join(b.dir, kind+"_vars")
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // no folder: nothing to add
		}
		seen := map[string]bool{}
		var names []string
		for _, e := range entries {
			n := e.Name()
			if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
				continue
			}
			for _, ext := range varsExtensions[1:] {
				if base, ok := strings.CutSuffix(n, ext); ok && !e.IsDir() {
					n = base
					break
				}
			}
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			if !b.ansible {
				if found := varsCandidates(dir, name); len(found) > 1 {
					// Ansible would read the first and ignore the rest without
					// a word; ferry's own format used to merge them all.
					b.add(found[1], 0, "%s_vars for %q: both %s and %s exist, and only the first would be read: merge them",
						kind, name, filepath.Base(found[0]), filepath.Base(found[1]))
					continue
				}
			}
			b.applyVarsFiles(kind, name, findVarsFiles(dir, name))
		}
	}
}

// findVarsFiles is ansible-core's DataLoader.find_vars_files.
func findVarsFiles(dir, name string) []string {
	for _, ext := range varsExtensions {
		p := filepath.Join(dir, name+ext)
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			return varsFilesIn(p)
		}
		return []string{p}
	}
	return nil
}

// varsCandidates lists which of NAME, NAME.yml, NAME.yaml and NAME.json
// exist, in Ansible's order.
func varsCandidates(dir, name string) []string {
	var out []string
	for _, ext := range varsExtensions {
		if p := filepath.Join(dir, name+ext); fileExists(p) {
			out = append(out, p)
		}
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func varsFilesIn(dir string) []string {
	entries, err := os.ReadDir(dir) // sorted by name, as Ansible sorts
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		ext := filepath.Ext(n)
		p := filepath.Join(dir, n)
		fi, err := os.Stat(p)
		switch {
		case err != nil:
		case fi.IsDir() && ext == "":
			out = append(out, varsFilesIn(p)...)
		case fi.Mode().IsRegular() && (ext == "" || slices.Contains(varsExtensions, ext)):
			out = append(out, p)
		}
	}
	return out
}

func (b *builder) applyVarsFiles(kind, name string, paths []string) {
	if len(paths) == 0 {
		return
	}
	var s scope
	if kind == "group" {
		gd := b.groups[name]
		if gd == nil {
			if !b.ansible {
				b.add(paths[0], 0, "group_vars for unknown group %q%s", name, suggest(name, b.groupSeq))
			}
			return
		}
		s = gd.scope(false)
	} else {
		hd := b.hosts[name]
		if hd == nil {
			if !b.ansible {
				known := make([]string, len(b.inv.Hosts))
				for i, h := range b.inv.Hosts {
					known[i] = h.Name
				}
				b.add(paths[0], 0, "host_vars for unknown host %q%s", name, suggest(name, known))
			}
			return
		}
		s = hd.scope(false)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			b.addErr(&Error{File: path, Msg: "cannot read: " + errText(err), Err: err})
			continue
		}
		b.setVars(s, b.varsFile(path, data, kind))
	}
}

// varsFile decodes one vars file. Like Ansible's loader it reads JSON as
// JSON first, then YAML; in Ansible's formats YAML scalars are typed by
// YAML 1.1 as Ansible's PyYAML does (yes/no/on/off are booleans, 0755
// is octal).
func (b *builder) varsFile(path string, data []byte, kind string) []varEntry {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("$ANSIBLE_VAULT;")) {
		b.add(path, 1, "encrypted with Ansible Vault, which ferry does not read: put its secrets in ferry's secrets file (age)")
		return nil
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&m) == nil && !dec.More() {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			out := make([]varEntry, 0, len(m))
			for _, k := range keys {
				out = append(out, varEntry{key: k, value: fromJSON(m[k]), at: ref{file: path, line: 1}})
			}
			return out
		}
	}
	y := yamlFile{file: path, p: &b.problems, yaml11: b.ansible}
	root, ok := y.parse(data)
	if !ok {
		return nil
	}
	return y.vars(root, "in "+kind+"_vars")
}

// fromJSON turns json.Number into int or float64, as Python's json would.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil && !strings.ContainsAny(x.String(), ".eE") {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSON(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fromJSON(e)
		}
		return x
	}
	return v
}
