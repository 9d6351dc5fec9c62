package inventory

import (
	"fmt"
	"path"
	"strings"
)

// Select returns the hosts a --limit pattern names, in inventory order.
//
// A pattern is a list of elements separated by "," or ":"; as in Ansible,
// an element that is an address with colons (fe80::1, [2001:db8::3]:22)
// is not split. An element is a
// host name, a group name (its hosts, children included), "all" or "*", or
// a glob over host and group names ("web-*", "db-0[12]"). Plain elements add
// up; "&elem" keeps only hosts also in elem; "!elem" removes elem's hosts.
// Order does not matter: "!web,all" is "all,!web". A pattern of only
// exclusions starts from all hosts.
//
// An empty element, a malformed glob, or an element that matches nothing is
// an error, since a typo in --limit must not quietly select nothing (or,
// after "!", everything). The result itself may be empty ("web,&db").
func (inv *Inventory) Select(pattern string) ([]*Host, error) {
	elems, ok := splitPattern(pattern)
	if !ok {
		return nil, fmt.Errorf("host pattern %q: empty element", pattern)
	}
	var union map[string]bool
	var intersect, exclude []map[string]bool
	for _, e := range elems {
		e = strings.TrimSpace(e)
		op := byte(0)
		if e != "" && (e[0] == '!' || e[0] == '&') {
			op, e = e[0], strings.TrimSpace(e[1:])
		}
		if e == "" {
			return nil, fmt.Errorf("host pattern %q: empty element", pattern)
		}
		set, err := inv.match(e)
		if err != nil {
			return nil, fmt.Errorf("host pattern %q: %w", pattern, err)
		}
		switch op {
		case '!':
			exclude = append(exclude, set)
		case '&':
			intersect = append(intersect, set)
		default:
			if union == nil {
				union = map[string]bool{}
			}
			for h := range set {
				union[h] = true
			}
		}
	}
	out := []*Host{}
next:
	for _, h := range inv.Hosts {
		if union != nil && !union[h.Name] {
			continue
		}
		for _, s := range intersect {
			if !s[h.Name] {
				continue next
			}
		}
		for _, s := range exclude {
			if s[h.Name] {
				continue next
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// match resolves one element to a set of host names.
func (inv *Inventory) match(e string) (map[string]bool, error) {
	set := map[string]bool{}
	addGroup := func(g string) {
		for _, h := range inv.HostsOf(g) {
			set[h.Name] = true
		}
	}
	switch {
	case e == "all" || e == "*":
		addGroup("all")
	case inv.Groups[e] != nil:
		addGroup(e)
	case inv.Host(e) != nil:
		set[e] = true
	case strings.ContainsAny(e, "*?["):
		if _, err := path.Match(e, ""); err != nil {
			return nil, fmt.Errorf("bad glob %q: %w", e, err)
		}
		for _, h := range inv.Hosts {
			if ok, _ := path.Match(e, h.Name); ok {
				set[h.Name] = true
			}
		}
		for g := range inv.Groups {
			if ok, _ := path.Match(e, g); ok {
				addGroup(g)
			}
		}
		if len(set) == 0 {
			return nil, fmt.Errorf("%q matches no host or group", e)
		}
	default:
		return nil, fmt.Errorf("no host or group %q%s", e, suggest(e, inv.names()))
	}
	return set, nil
}

// names lists every host and group name, for suggestions.
func (inv *Inventory) names() []string {
	var out []string
	for _, h := range inv.Hosts {
		out = append(out, h.Name)
	}
	return append(out, inv.GroupOrder()...)
}

// splitPattern splits a pattern into its elements; ok is false when one is
// empty.
func splitPattern(pattern string) ([]string, bool) {
	if strings.TrimSpace(pattern) == "" {
		return nil, false
	}
	var out []string
	for _, part := range strings.Split(pattern, ",") {
		t := strings.TrimSpace(part)
		if body := strings.TrimLeft(t, "!&"); strings.Contains(body, ":") {
			if _, _, isAddr := splitHostPort(body); isAddr {
				out = append(out, t)
				continue
			}
		}
		for _, e := range strings.Split(t, ":") {
			if strings.TrimSpace(e) == "" {
				return nil, false
			}
			out = append(out, e)
		}
	}
	return out, true
}
