package roles

import (
	"errors"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// includeRoleArgs are the keys of include_role: and import_role:'s mapping.
var includeRoleArgs = []string{"name", "tasks_from"}

// roleTasks reads include_role: / import_role: {name: ROLE, tasks_from:
// FILE}: the named role's tasks (those of role.yml, or of tasks/FILE),
// loaded and checked now. A role may include files of its own tasks/;
// roles that include each other's main tasks (or depend on a role that
// includes them back) are a cycle, reported with the files that make it.
func (p *parser) roleTasks(kind string, n *yaml.Node) ([]*Task, string, *Role, error) {
	if n.Kind != yaml.MappingNode {
		return nil, "", nil, errorf(p.file, n.Line, "%s must be a mapping (name: ROLE, tasks_from: FILE), got %s", kind, kindName(n))
	}
	pairs, err := p.pairs(n)
	if err != nil {
		return nil, "", nil, err
	}
	var name, from string
	var nameLine int
	for _, kv := range pairs {
		k := kv.key.Value
		if !slices.Contains(includeRoleArgs, k) {
			return nil, "", nil, errorf(p.file, kv.key.Line, "%s has no argument %q%s; it takes name and tasks_from", kind, k, didYouMean(k, includeRoleArgs))
		}
		v := resolve(kv.value)
		s, err := p.str(kind+" "+k, v)
		if err != nil {
			return nil, "", nil, err
		}
		if strings.Contains(s, "{{") {
			return nil, "", nil, errorf(p.file, v.Line, "%s %s takes a name, not a template: every role is checked before anything runs", kind, k)
		}
		if k == "name" {
			name, nameLine = s, v.Line
		} else {
			from = s
			if path.Ext(from) == "" {
				from += ".yml" // Ansible's tasks_from: install means tasks/install.yml
			}
		}
	}
	if name == "" {
		return nil, "", nil, errorf(p.file, n.Line, "%s needs name: (the role)", kind)
	}
	role, err := p.includedRole(kind, name, from, nameLine)
	if err != nil {
		return nil, "", nil, err
	}
	if from != "" {
		tasks, display, err := p.taskFile(kind, role, from, nameLine)
		return tasks, display, role, err
	}
	return cloneTasks(role.Tasks), role.Source, role, nil
}

// includedRole finds the role an include names: the role being parsed, a
// role being loaded further up (only its tasks files can be read: its
// role.yml is not parsed yet), or any other role, loaded now.
func (p *parser) includedRole(kind, name, from string, line int) (*Role, error) {
	for i, r := range p.stack {
		if r.Name != name {
			continue
		}
		if from != "" {
			return r, nil // a cycle of files is found by taskFile
		}
		chain := make([]string, 0, len(p.stack)-i+2)
		for _, s := range p.stack[i:] {
			chain = append(chain, s.Source)
		}
		if p.file != chain[len(chain)-1] {
			chain = append(chain, p.file)
		}
		return nil, errorf(p.file, line, "%s: cycle: %s -> %s", kind, strings.Join(chain, " -> "), r.Source)
	}
	if p.loader == nil {
		return nil, errorf(p.file, line, "%s: roles cannot be loaded here", kind)
	}
	r, err := p.loader.loadCached(name, p.stack)
	if err != nil {
		var re *Error
		if errors.As(err, &re) && re.File == "" {
			return nil, &Error{File: p.file, Line: line, Msg: kind + ": " + re.Msg, Err: err}
		}
		return nil, err
	}
	return r, nil
}

// cloneTasks copies a list of tasks deeply enough that an import can apply
// its keys to them without touching the role's own.
func cloneTasks(ts []*Task) []*Task {
	if ts == nil {
		return nil
	}
	out := make([]*Task, len(ts))
	for i, t := range ts {
		c := *t
		c.Tags = slices.Clone(t.Tags)
		c.Notify = slices.Clone(t.Notify)
		c.Block, c.Rescue, c.Always = cloneTasks(t.Block), cloneTasks(t.Rescue), cloneTasks(t.Always)
		c.Include = cloneTasks(t.Include)
		out[i] = &c
	}
	return out
}
