package modules

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// Check mode's prediction of the firewall: the rule set, defaults and
// status a ufw task's Apply leaves, so that a later ufw task in the same
// run plans against them.

// predictedUfw is ufwState as recorded in hoststate.State's facts.
type predictedUfw struct {
	Active   bool     `json:"active"`
	Incoming string   `json:"incoming"`
	Outgoing string   `json:"outgoing"`
	Rules    []string `json:"rules"`
}

const ufwFact = "firewall"

// readPredicted reads the firewall, or in check mode takes what an earlier
// ufw task of the run would have left. After a package install that task
// does not predict, ufw itself may have come or gone: unknown.
func (m *ufwModule) readPredicted(ctx context.Context, t *Target) (ufwState, error) {
	if t.State == nil {
		return m.read(ctx, t)
	}
	ps := t.State.State
	if v, ok := ps.Fact(ufwFact, "ufw"); ok {
		var p predictedUfw
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return ufwState{}, fmt.Errorf("ufw: predicted state: %w", err)
		}
		return ufwState{installed: true, active: p.Active, incoming: p.Incoming, outgoing: p.Outgoing, rules: p.Rules}, nil
	}
	if why := ps.Touched(hoststate.Packages); why != "" {
		return ufwState{}, &hoststate.UnknownError{What: "the firewall", Because: why + ", which may change it"}
	}
	return m.read(ctx, t)
}

// after is the firewall once Apply ran m's commands on cur: a listed rule
// replaces the one with its key in place (ufw updates its comment) or is
// added at the end, and with purge the rules not listed are gone.
func (m *ufwModule) after(cur ufwState) ufwState {
	next := ufwState{installed: true, active: m.state == "enabled", incoming: m.incoming, outgoing: m.outgoing}
	rules := append([]string(nil), cur.rules...)
	wanted := map[string]bool{}
	for _, r := range m.rules {
		text := r.text()
		wanted[ruleKey(text)] = true
		found := false
		for i, have := range rules {
			if ruleKey(have) == ruleKey(text) {
				rules[i], found = text, true
			}
		}
		if !found {
			rules = append(rules, text)
		}
	}
	for _, r := range rules {
		if !m.purge || wanted[ruleKey(r)] {
			next.rules = append(next.rules, r)
		}
	}
	return next
}

// predict records the firewall as Apply leaves it; the files ufw keeps its
// rules and defaults in change in ways only ufw knows.
func (m *ufwModule) predict(ps *hoststate.State, cur ufwState) {
	next := m.after(cur)
	ps.SetFact(ufwFact, "ufw", mustJSON(predictedUfw{Active: next.active, Incoming: next.incoming, Outgoing: next.outgoing, Rules: next.rules}))
	because := "an earlier ufw task rewrites it"
	ps.MarkUnknown("/etc/ufw", because)
	ps.MarkUnknown("/etc/default/ufw", because)
}
