package inventory

import (
	"errors"
	"io/fs"
	"os"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// SiteFile is the name of the file, beside an INI inventory, that gives its
// groups roles and their run order. INI has no place for either.
//
// It is the subset of an Ansible playbook that ferry understands: a list of
// plays, each naming one group. The plays' order is the group run order.
//
//   - hosts: db
//     roles: [common, firewall, mysql]
//   - hosts: web
//     roles: [common, firewall, nginx]
//     serial: 1                  # or "30%"
//     max_fail_percentage: 0
//
// Keys: hosts (one group name), roles, serial, max_fail_percentage, and name
// (a label, ignored). Any other key is an error, so that an Ansible playbook
// with tasks is refused instead of half-applied.
const SiteFile = "site.yml"

var playKeys = []string{"name", "hosts", "roles", "serial", "max_fail_percentage"}

// loadSite reads the site file at path when it exists.
func (b *builder) loadSite(path string) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		b.addErr(&Error{File: path, Msg: "cannot read site file: " + errText(err), Err: err})
		return
	}
	y := yamlFile{file: path, p: &b.problems}
	root, ok := y.parse(data)
	if !ok || root == nil {
		return
	}
	if root.Kind != yaml.SequenceNode {
		b.add(path, root.Line, "a site file is a list of plays (- hosts: GROUP, roles: [...]), found %s", kindName(root))
		return
	}
	seen := map[string]int{}
	for i, play := range root.Content {
		what := "in play " + strconv.Itoa(i+1)
		var p struct {
			group          ref
			roles          []ref
			serial         Serial
			maxFail        int
			serialSet, mfp bool
		}
		y.mapping(play, what, playKeys, func(key string, k, v *yaml.Node) {
			switch key {
			case "hosts":
				if s, ok := y.scalar(v, "hosts"); ok {
					p.group = ref{name: s, file: path, line: v.Line}
				}
			case "roles":
				p.roles = y.names(v, "roles "+what)
			case "serial":
				if serial, ok := y.serial(v); ok {
					p.serial, p.serialSet = serial, true
				}
			case "max_fail_percentage":
				if n, ok := y.maxFailPercentage(v); ok {
					p.maxFail, p.mfp = n, true
				}
			}
		})
		if p.group.name == "" {
			b.add(path, deref(play).Line, "play %d: hosts: GROUP is required", i+1)
			continue
		}
		if prev, dup := seen[p.group.name]; dup {
			b.add(path, p.group.line, "group %q already has a play at line %d", p.group.name, prev)
			continue
		}
		seen[p.group.name] = p.group.line
		// An unknown group is reported by the order check, with a suggestion.
		b.order = append(b.order, p.group)
		gd := b.groups[p.group.name]
		if gd == nil {
			continue
		}
		for _, r := range p.roles {
			gd.g.Roles = append(gd.g.Roles, r.name)
		}
		if p.serialSet {
			gd.g.Serial = p.serial
		}
		if p.mfp {
			gd.g.MaxFailPercentage = p.maxFail
		}
	}
}

// errText drops the path an *fs.PathError repeats, since Error carries it.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
