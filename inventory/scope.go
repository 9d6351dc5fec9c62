package inventory

import (
	"strconv"
	"strings"
)

// scope is where a list of variables goes: a group's or a host's, written
// in the inventory itself (inline) or in a group_vars/host_vars file. The
// two tiers stay apart because Ansible ranks every inline group variable
// below every group_vars file (see resolve).
type scope struct {
	public map[string]any      // Group.Vars or Host.Vars
	tier   map[string]varEntry // the tier the variables belong to
	gd     *groupDecl
	hd     *hostDecl
	inline bool
}

func (gd *groupDecl) scope(inline bool) scope {
	t := gd.files
	if inline {
		t = gd.inline
	}
	return scope{public: gd.g.Vars, tier: t, gd: gd, inline: inline}
}

func (hd *hostDecl) scope(inline bool) scope {
	// Made on first use: most hosts of a big inventory have no vars of
	// their own.
	if hd.inline == nil {
		hd.inline, hd.files = map[string]varEntry{}, map[string]varEntry{}
	}
	t := hd.files
	if inline {
		t = hd.inline
	}
	return scope{public: hd.h.Vars, tier: t, hd: hd, inline: inline}
}

// setVars stores variables into s. Ansible's connection variables are kept
// out of the public vars (they are settings, not template data) but ranked
// like any variable, and checked here so that a bad value is reported once,
// where it is written. ansible_group_priority written in the inventory
// itself ranks the group among its siblings, as in Ansible.
func (b *builder) setVars(s scope, entries []varEntry) {
	for _, e := range entries {
		if !b.varNameOK(e.key) {
			b.add(e.at.file, e.at.line, "invalid variable name %q: use letters, digits and '_', not starting with a digit", e.key)
			continue
		}
		if e.key == "ansible_group_priority" && s.gd != nil && s.inline {
			n, err := strconv.Atoi(strings.TrimSpace(scalarString(e.value)))
			if err != nil {
				b.add(e.at.file, e.at.line, "ansible_group_priority: %q is not a whole number", scalarString(e.value))
				continue
			}
			s.gd.priority = n
			continue
		}
		if err := refusedVar(e.key, e.value); err != nil {
			b.add(e.at.file, e.at.line, "%s: %v", e.key, err)
			continue
		}
		setting, isConn := ansibleConnVars[e.key]
		if isConn && !b.ansible {
			b.setFerryConn(s, setting, e)
			continue
		}
		switch {
		case isConn && e.value == nil:
			// null: as if unset (it still hides a value from a lower level).
		case !isConn:
			s.public[e.key] = e.value
		case setting == "address":
			addr := strings.TrimSpace(scalarString(e.value))
			if addr == "" || strings.ContainsAny(addr, " \t/") {
				b.add(e.at.file, e.at.line, "%s: invalid address %q", e.key, addr)
				continue
			}
			// Two different addresses for one host in the inventory itself
			// is refused on purpose: Ansible takes the last one silently.
			if prev, ok := s.tier[e.key]; ok && s.hd != nil && s.inline && scalarString(prev.value) != addr {
				b.add(e.at.file, e.at.line, "host %q: address %s conflicts with %s given at %s:%d",
					s.hd.h.Name, addr, scalarString(prev.value), prev.at.file, prev.at.line)
				continue
			}
		default:
			var p connPatch
			if err := setConn(&p, setting, e.value, e.at); err != nil {
				b.add(e.at.file, e.at.line, "%s: %v", e.key, err)
				continue
			}
			if p.BecomePassword != nil {
				b.becomeRefs = append(b.becomeRefs, p)
			}
		}
		s.tier[e.key] = e
	}
}

func (b *builder) varNameOK(name string) bool {
	if b.ansible {
		// Ansible takes any name; templates reach odd ones with index.
		return name != "" && !strings.ContainsAny(name, " \t\n")
	}
	return validVarName(name)
}

// setFerryConn applies an Ansible connection variable written in ferry's
// own format as that format always has: at its level, among the
// connection: settings (host over group over all), and ansible_host only
// for a host, as its address.
func (b *builder) setFerryConn(s scope, setting string, e varEntry) {
	switch {
	case setting == "address" && s.hd == nil:
		b.add(e.at.file, e.at.line, "%s is only valid for a host", e.key)
	case setting == "address":
		b.setAddress(s.hd, scalarString(e.value), e.at)
	default:
		var p *connPatch
		if s.gd != nil {
			p = &s.gd.conn
		} else {
			p = &s.hd.conn
		}
		if err := setConn(p, setting, e.value, e.at); err != nil {
			b.add(e.at.file, e.at.line, "%s: %v", e.key, err)
		}
	}
}
