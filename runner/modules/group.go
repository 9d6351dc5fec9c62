package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	register("group", []string{"name", "state", "gid", "system"}, []string{"name"}, newGroup)
}

// groupModule manages a local group.
type groupModule struct {
	name   string
	state  string
	gid    int // -1: not managed
	system bool

	script string
}

func newGroup(a *argReader) (Module, error) {
	m := &groupModule{
		name:   a.str("name", ""),
		state:  a.presence(),
		gid:    a.accountID("gid"),
		system: a.boolean("system", false),
	}
	if a.err != nil {
		return nil, a.err
	}
	if !accountName.MatchString(m.name) {
		return nil, fmt.Errorf("group: argument name: %q is not a valid group name", m.name)
	}
	return m, nil
}

// readGroup returns whether the group exists and its gid, in one round trip.
func (m *groupModule) read(ctx context.Context, t *Target) (bool, int, error) {
	res, err := runOK(ctx, t, "group "+m.name, executor.Command{Script: "getent group " + quote(m.name) + "; exit 0"})
	if err != nil {
		return false, 0, err
	}
	return parseGroupEntry(string(res.Stdout))
}

func parseGroupEntry(out string) (bool, int, error) {
	line := strings.TrimSpace(out)
	if line == "" {
		return false, 0, nil
	}
	f := strings.Split(line, ":")
	if len(f) < 3 {
		return false, 0, fmt.Errorf("group: unexpected entry %q", line)
	}
	gid, err := strconv.Atoi(f[2])
	if err != nil {
		return false, 0, fmt.Errorf("group: unexpected gid %q", f[2])
	}
	return true, gid, nil
}

func (m *groupModule) plan(exists bool, gid int) ([]string, string) {
	n := quote(m.name)
	switch {
	case m.state == "absent" && exists:
		return []string{"remove group " + m.name}, "groupdel " + n
	case m.state == "absent":
		return nil, ""
	case !exists:
		flags := ""
		if m.system {
			flags += "-r "
		}
		if m.gid >= 0 {
			flags += "-g " + strconv.Itoa(m.gid) + " "
		}
		return []string{"create group " + m.name}, "groupadd " + flags + n
	case m.gid >= 0 && gid != m.gid:
		return []string{fmt.Sprintf("set gid of %s to %d (was %d)", m.name, m.gid, gid)}, "groupmod -g " + strconv.Itoa(m.gid) + " " + n
	}
	return nil, ""
}

// Plan costs one round trip.
func (m *groupModule) Plan(ctx context.Context, t *Target) (Change, error) {
	exists, gid, err := m.readPredicted(ctx, t)
	if err != nil {
		return Change{}, err
	}
	sum, script := m.plan(exists, gid)
	m.script = script
	c := Change{Changed: len(sum) > 0, Summary: sum}
	if c.Changed {
		c.Predict = func(ps *hoststate.State) {
			v := "absent"
			if m.state == "present" {
				v = "present " + strconv.Itoa(m.gid) // -1: groupadd picks it
			}
			ps.SetFact("group", m.name, v)
		}
	}
	return c, nil
}

// readPredicted reads the group, or in check mode takes what an earlier
// task of the run would have left. Packages create groups check mode does
// not see: after them, a group no task names is unknown; so is the group
// of a user's name that useradd or userdel may create or remove.
func (m *groupModule) readPredicted(ctx context.Context, t *Target) (bool, int, error) {
	if t.State == nil {
		return m.read(ctx, t)
	}
	ps := t.State.State
	if v, ok := ps.Fact("group", m.name); ok {
		if v == "absent" {
			return false, 0, nil
		}
		if why, unknown := strings.CutPrefix(v, "unknown "); unknown {
			return false, 0, &hoststate.UnknownError{What: "group " + m.name, Because: "an earlier " + why}
		}
		gid, _ := strconv.Atoi(strings.TrimPrefix(v, "present "))
		if gid < 0 && m.gid >= 0 {
			return false, 0, &hoststate.UnknownError{What: "the gid of group " + m.name, Because: "groupadd picks it in the real run"}
		}
		return true, gid, nil
	}
	if why := ps.Touched(hoststate.Packages); why != "" {
		return false, 0, &hoststate.UnknownError{What: "group " + m.name, Because: why + ", which may create it"}
	}
	return m.read(ctx, t)
}

// Apply runs the one command and verifies with one read.
func (m *groupModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if _, err := runOK(ctx, t, "group "+m.name, executor.Command{Script: m.script}); err != nil {
		return c, err
	}
	exists, gid, err := m.read(ctx, t)
	if err != nil {
		return c, fmt.Errorf("group %s: verify: %w", m.name, err)
	}
	if left, _ := m.plan(exists, gid); len(left) > 0 {
		return c, fmt.Errorf("group %s: verify: still needs %v", m.name, left)
	}
	return c, nil
}
