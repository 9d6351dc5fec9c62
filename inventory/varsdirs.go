package inventory

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// loadVarsDirs reads group_vars/ and host_vars/ beside the inventory, as
// Ansible does: for each NAME, NAME.yml, then NAME.yaml, then every .yml or
// .yaml file of the folder NAME/ in name order; later files override earlier
// ones, and all of them override vars written in the inventory itself.
// A file for a group or host the inventory does not have is an error: it is
// nearly always a typo that would otherwise silently do nothing.
func (b *builder) loadVarsDirs() {
	for _, kind := range []string{"group", "host"} {
		dir := filepath.Join(b.dir, kind+"_vars")
		files := varsFiles(dir)
		names := make([]string, 0, len(files))
		for name := range files {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			b.applyVarsFiles(kind, name, files[name])
		}
	}
}

func (b *builder) applyVarsFiles(kind, name string, paths []string) {
	var vars map[string]any
	var conn *connPatch
	var hd *hostDecl
	if kind == "group" {
		gd := b.groups[name]
		if gd == nil {
			b.add(paths[0], 0, "group_vars for unknown group %q%s", name, suggest(name, b.groupSeq))
			return
		}
		vars, conn = gd.g.Vars, &gd.conn
	} else {
		hd = b.hosts[name]
		if hd == nil {
			known := make([]string, len(b.inv.Hosts))
			for i, h := range b.inv.Hosts {
				known[i] = h.Name
			}
			b.add(paths[0], 0, "host_vars for unknown host %q%s", name, suggest(name, known))
			return
		}
		vars, conn = hd.h.Vars, &hd.conn
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			b.addErr(&Error{File: path, Msg: "cannot read: " + errText(err), Err: err})
			continue
		}
		y := yamlFile{file: path, p: &b.problems}
		root, ok := y.parse(data)
		if !ok {
			continue
		}
		b.setVars(vars, conn, hd, y.vars(root, "in "+kind+"_vars"))
	}
}

// varsFiles maps each NAME under dir to its files in precedence order.
func varsFiles(dir string) map[string][]string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // no folder: nothing to add
	}
	byName := map[string][3][]string{}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		slots := byName[strings.TrimSuffix(strings.TrimSuffix(n, ".yml"), ".yaml")]
		switch {
		case e.IsDir():
			slots[2] = yamlFilesIn(filepath.Join(dir, n))
		case strings.HasSuffix(n, ".yml"):
			slots[0] = []string{filepath.Join(dir, n)}
		case strings.HasSuffix(n, ".yaml"):
			slots[1] = []string{filepath.Join(dir, n)}
		default:
			continue
		}
		byName[strings.TrimSuffix(strings.TrimSuffix(n, ".yml"), ".yaml")] = slots
	}
	out := map[string][]string{}
	for name, slots := range byName {
		all := append(append(append([]string{}, slots[0]...), slots[1]...), slots[2]...)
		if len(all) > 0 {
			out[name] = all
		}
	}
	return out
}

func yamlFilesIn(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries { // ReadDir sorts by name
		n := e.Name()
		if !e.IsDir() && !strings.HasPrefix(n, ".") && (strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".yaml")) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}
