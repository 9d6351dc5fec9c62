package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"

	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// Check mode's prediction of an account: what the user task's Apply leaves,
// so that a later task on the same account plans against it. What useradd
// picks by itself (a uid, the home, the shell, a primary group of the
// user's own name) is unknown until the real run: a later task that
// compares it is unknown, one that does not is planned exactly.

// predictedUser is an account as check mode predicts it; a field whose
// Known flag is false is what useradd picks in the real run.
type predictedUser struct {
	Exists     bool     `json:"exists"`
	UID        int      `json:"uid"` // -1: picked by useradd
	Home       string   `json:"home"`
	Shell      string   `json:"shell"`
	Group      string   `json:"group"` // "": picked by useradd
	Groups     []string `json:"groups"`
	Keys       []string `json:"keys"`
	HomeKnown  bool     `json:"home_known"`
	ShellKnown bool     `json:"shell_known"`
}

// userFact is the key of the prediction in hoststate.State's facts.
const userFact = "user"

// readPredicted reads the account, or in check mode takes what an earlier
// task of the run would have left. A package installed earlier may have
// created an account no task names: that one is unknown.
func (m *userModule) readPredicted(ctx context.Context, t *Target) (userState, error) {
	if t.State == nil {
		return m.read(ctx, t)
	}
	ps := t.State.State
	if v, ok := ps.Fact(userFact, m.name); ok {
		var p predictedUser
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return userState{}, fmt.Errorf("user %s: predicted state: %w", m.name, err)
		}
		return m.fromPrediction(p)
	}
	if why := ps.Touched(hoststate.Packages); why != "" {
		return userState{}, &hoststate.UnknownError{What: "user " + m.name, Because: why + ", which may create it"}
	}
	return m.read(ctx, t)
}

// fromPrediction is the account as the plan reads it; what the plan would
// compare but useradd picks is unknown.
func (m *userModule) fromPrediction(p predictedUser) (userState, error) {
	if !p.Exists {
		return userState{}, nil
	}
	st := userState{exists: true, uid: p.UID, home: p.Home, shell: p.Shell, group: p.Group, groups: p.Groups, keys: p.Keys}
	picked := func(what string) error {
		return &hoststate.UnknownError{What: "the " + what + " of user " + m.name, Because: "useradd picks it in the real run"}
	}
	switch {
	case m.state == "absent":
	case m.uid >= 0 && p.UID < 0:
		return st, picked("uid")
	case m.group != "" && p.Group == "":
		return st, picked("primary group")
	case m.shell != "" && !p.ShellKnown:
		return st, picked("shell")
	case (m.home != "" || len(m.keys) > 0) && !p.HomeKnown:
		// Keys live in the home folder; a new one is created there.
		return st, picked("home")
	}
	return st, nil
}

// predict records the account as Apply leaves it, from the state the plan
// read: the account itself, the group useradd or userdel may create or
// remove with it, and the home folder it creates or moves.
func (m *userModule) predict(ps *hoststate.State, cur userState) {
	because := "user task on " + m.name + " creates or removes it with the user"
	if m.state == "absent" {
		ps.SetFact(userFact, m.name, mustJSON(predictedUser{}))
		// userdel removes the user's own group where login.defs says so.
		ps.SetFact("group", m.name, "unknown "+because)
		return
	}
	p := predictedUser{Exists: true, UID: m.uid, Home: m.home, Shell: m.shell, Group: m.group,
		Groups: m.groups, Keys: m.keys, HomeKnown: m.home != "", ShellKnown: m.shell != ""}
	if !cur.exists {
		if m.group == "" {
			// USERGROUPS_ENAB: useradd may create a group of the
			// user's name and make it the primary one.
			ps.SetFact("group", m.name, "unknown "+because)
		}
		home := m.home
		if home == "" {
			home = path.Join("/home", m.name) // useradd's default HOME
		}
		ps.MarkUnknown(home, "useradd -m creates it for user "+m.name)
		if p.Groups == nil {
			p.Groups = []string{}
		}
		ps.SetFact(userFact, m.name, mustJSON(p))
		return
	}
	p = predictedUser{Exists: true, UID: cur.uid, Home: cur.home, Shell: cur.shell, Group: cur.group,
		Groups: cur.groups, Keys: slices.Clone(cur.keys), HomeKnown: true, ShellKnown: true}
	if m.uid >= 0 {
		p.UID = m.uid
	}
	if m.group != "" {
		p.Group = m.group
	}
	if m.hasGrps {
		p.Groups = m.groups
	}
	if m.shell != "" {
		p.Shell = m.shell
	}
	if m.home != "" && m.home != cur.home {
		ps.MarkUnknown(cur.home, "usermod -m moves it for user "+m.name)
		ps.MarkUnknown(m.home, "usermod -m moves it for user "+m.name)
		p.Home = m.home
	}
	have := map[string]bool{}
	for _, k := range p.Keys {
		have[keyID(k)] = true
	}
	for _, k := range m.keys {
		if !have[keyID(k)] {
			p.Keys = append(p.Keys, k)
			have[keyID(k)] = true
		}
	}
	if len(p.Keys) != len(cur.keys) {
		ps.MarkUnknown(path.Join(p.Home, ".ssh"), "user task on "+m.name+" adds keys there")
	}
	ps.SetFact(userFact, m.name, mustJSON(p))
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings and ints
	}
	return string(b)
}
