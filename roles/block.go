package roles

import (
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// blockKeys are the keys a block may have. Its when, become, tags, vars
// and no_log apply to every task inside it, as in Ansible.
var blockKeys = []string{"block", "rescue", "always", "name", "when", "become", "tags", "vars", "no_log", "delegate_to", "become_user"}

func isBlock(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i < len(n.Content); i += 2 {
		if resolve(n.Content[i]).Value == "block" {
			return true
		}
	}
	return false
}

// block parses a block: block:, rescue: and always: lists of tasks (or
// blocks) and the keys that apply to all of them.
func (p *parser) block(n *yaml.Node, section string) (*Task, error) {
	if section == "handlers" {
		return nil, errorf(p.file, n.Line, "a handler cannot be a block; notify several handlers instead")
	}
	pairs, err := p.pairs(n)
	if err != nil {
		return nil, err
	}
	b := &Task{Line: n.Line, Role: p.role, File: p.file}
	var lists [3]*yaml.Node
	for _, kv := range pairs {
		k := kv.key.Value
		switch k {
		case "block":
			lists[0] = kv.value
		case "rescue":
			lists[1] = kv.value
		case "always":
			lists[2] = kv.value
		default:
			if !slices.Contains(blockKeys, k) {
				return nil, errorf(p.file, kv.key.Line, "unknown block key %q%s; a block has %s", k, didYouMean(k, blockKeys), quoteList(blockKeys))
			}
			if err := p.taskField(b, kv); err != nil {
				return nil, err
			}
		}
	}
	if b.Name == "" {
		b.Name = "block"
	}
	for i, name := range []string{"block", "rescue", "always"} {
		if lists[i] == nil {
			continue
		}
		ts, err := p.taskList(lists[i], name)
		if err != nil {
			return nil, err
		}
		if len(ts) == 0 {
			return nil, errorf(p.file, resolve(lists[i]).Line, "%s: must list at least one task", name)
		}
		switch i {
		case 0:
			b.Block = ts
		case 1:
			b.Rescue = ts
		case 2:
			b.Always = ts
		}
	}
	for _, t := range Flatten([]*Task{b}) {
		if err := p.inherit(b, t); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// inherit applies a block's keys to one task inside it: conditions add up,
// the task's own become and vars win over the block's, tags add up.
func (p *parser) inherit(b, t *Task) error {
	if b.When != "" {
		if t.When == "" {
			t.When = b.When
		} else {
			outer, ok1 := exprOf(b.When)
			inner, ok2 := exprOf(t.When)
			if !ok1 || !ok2 {
				return errorf(p.file, t.Line, "inside a block with when:, a task's when: and the block's must each be one expression (eq .x \"y\"), not text around {{ }}")
			}
			t.When = "and (" + outer + ") (" + inner + ")"
		}
	}
	if t.Become == nil {
		t.Become = b.Become
	}
	if t.DelegateTo == "" {
		t.DelegateTo = b.DelegateTo
	}
	if t.BecomeUser == "" {
		t.BecomeUser = b.BecomeUser
	}
	for _, tag := range b.Tags {
		if !slices.Contains(t.Tags, tag) {
			t.Tags = append(t.Tags, tag)
		}
	}
	if len(b.Vars) > 0 {
		vars := maps.Clone(b.Vars)
		maps.Copy(vars, t.Vars)
		t.Vars = vars
	}
	t.NoLog = t.NoLog || b.NoLog
	return nil
}

// exprOf returns the expression of a condition: "eq .a 1" as it is, and
// "{{ eq .a 1 }}" without its braces.
func exprOf(when string) (string, bool) {
	s := strings.TrimSpace(when)
	if !strings.Contains(s, "{{") {
		return s, true
	}
	if !isOneAction(s) {
		return "", false
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{{"), "}}")
	s = strings.TrimPrefix(strings.TrimSuffix(s, "-"), "-")
	return strings.TrimSpace(s), true
}
