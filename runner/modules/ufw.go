package modules

import (
	"context"
	"fmt"
	"go.yaml.in/yaml/v3"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hostread"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	register("ufw", []string{"state", "default_incoming", "default_outgoing", "rules", "purge", "ssh_port", "ssh_from"}, nil, newUfw)
}

// ufwModule makes the firewall's defaults and rule set what the task lists.
// The SSH rule (ssh_port from ssh_from) is always part of the set and is
// applied before anything else, so ferry never locks itself out.
type ufwModule struct {
	state    string
	incoming string
	outgoing string
	rules    []ufwRule // SSH rule first
	purge    bool

	commands []string // planned, in order
}

func newUfw(a *argReader) (Module, error) {
	m := &ufwModule{
		state:    a.oneOf("state", "enabled", "enabled", "disabled"),
		incoming: a.oneOf("default_incoming", "deny", "allow", "deny", "reject"),
		outgoing: a.oneOf("default_outgoing", "allow", "allow", "deny", "reject"),
		purge:    a.boolean("purge", true),
	}
	ssh := ufwRule{action: "allow", proto: "tcp", port: fmt.Sprint(a.integer("ssh_port", 22, 1, 65535)), from: a.str("ssh_from", "any")}
	if a.err != nil {
		return nil, a.err
	}
	if _, err := parseUfwRule(0, map[string]any{"port": ssh.port, "from": ssh.from}); err != nil {
		return nil, fmt.Errorf("ufw: argument ssh_from: %q is not an address, a CIDR or any", ssh.from)
	}
	var listed []ufwRule
	if v, ok := a.m["rules"]; ok && v != nil {
		// A role that builds its rule list in a template renders it as
		// text (JSON or YAML); decode it back into the list it spells.
		if text, isText := v.(string); isText {
			var decoded any
			if err := yaml.Unmarshal([]byte(text), &decoded); err != nil {
				return nil, fmt.Errorf("ufw: argument rules: not a list: %v", err)
			}
			v = decoded
		}
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("ufw: argument rules: want a list, got %T", v)
		}
		for i, it := range items {
			r, err := parseUfwRule(i, it)
			if err != nil {
				return nil, err
			}
			listed = append(listed, r)
		}
	}
	m.rules = []ufwRule{ssh}
	for _, r := range listed {
		if ruleKey(r.text()) == ruleKey(ssh.text()) {
			m.rules[0] = r // the task's own copy, with its comment
			continue
		}
		m.rules = append(m.rules, r)
	}
	return m, nil
}

// ufwRead reads the firewall in one round trip (hostread.UFW).
var ufwRead = hostread.UFW.Script

func (m *ufwModule) read(ctx context.Context, t *Target) (ufwState, error) {
	cmd := executor.Command{Script: ufwRead, Become: true}
	if t.State != nil {
		// Check mode leaves the host as it was: not even the reader's cache.
		cmd.Env = map[string]string{hostread.ReadOnlyEnv: "1"}
	}
	res, err := runOK(ctx, t, "ufw", cmd)
	if err != nil {
		return ufwState{}, err
	}
	st := parseUfwRead(string(res.Stdout))
	if !st.installed {
		return st, fmt.Errorf("ufw: not usable on this host: %s", tail(nil, res.Stdout))
	}
	return st, nil
}

// Plan costs one round trip (none in check mode after an earlier ufw task).
func (m *ufwModule) Plan(ctx context.Context, t *Target) (Change, error) {
	st, err := m.readPredicted(ctx, t)
	if err != nil {
		return Change{}, err
	}
	m.commands, err = m.plan(st)
	if err != nil {
		return Change{}, err
	}
	c := Change{Changed: len(m.commands) > 0, Summary: m.commands}
	if c.Changed {
		c.Predict = func(ps *hoststate.State) { m.predict(ps, st) }
	}
	return c, nil
}

// plan lists the ufw commands, in the order they must run: the SSH rule
// first, then defaults, other rules, deletions, and enabling last.
func (m *ufwModule) plan(st ufwState) ([]string, error) {
	var cmds []string
	current := map[string]string{} // key -> text
	for _, r := range st.rules {
		current[ruleKey(r)] = r
	}
	wanted := map[string]bool{}
	for i, r := range m.rules {
		text := r.text()
		wanted[ruleKey(text)] = true
		if cur, ok := current[ruleKey(text)]; !ok || cur != text {
			cmds = append(cmds, "ufw "+text)
		}
		if i == 0 {
			if m.incoming != st.incoming {
				cmds = append(cmds, "ufw default "+m.incoming+" incoming")
			}
			if m.outgoing != st.outgoing {
				cmds = append(cmds, "ufw default "+m.outgoing+" outgoing")
			}
		}
	}
	if m.purge {
		for _, r := range st.rules {
			if !wanted[ruleKey(r)] {
				del, err := deleteCommand(r)
				if err != nil {
					return nil, err
				}
				cmds = append(cmds, del)
			}
		}
	}
	switch {
	case m.state == "enabled" && !st.active:
		cmds = append(cmds, "ufw --force enable")
	case m.state == "disabled" && st.active:
		cmds = append(cmds, "ufw disable")
	}
	return cmds, nil
}

// Apply runs the commands in one round trip, stopping at the first failure,
// and verifies with one read.
func (m *ufwModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	script := "set -e\n" + strings.Join(m.commands, "\n") + "\n"
	if _, err := runOK(ctx, t, "ufw", executor.Command{Script: script, Become: true}); err != nil {
		return c, err
	}
	st, err := m.read(ctx, t)
	if err != nil {
		return c, fmt.Errorf("ufw: verify: %w", err)
	}
	left, err := m.plan(st)
	if err != nil {
		return c, fmt.Errorf("ufw: verify: %w", err)
	}
	if len(left) > 0 {
		return c, fmt.Errorf("ufw: verify: still needs %v", left)
	}
	return c, nil
}
