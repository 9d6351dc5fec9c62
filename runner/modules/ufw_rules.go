package modules

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/runner/hostread"
)

// ufwRule is one firewall rule as a task lists it.
type ufwRule struct {
	action  string // allow, deny, reject, limit
	port    string // "80", "8000:8010" or "" (every port)
	proto   string // tcp, udp, any
	from    string // address, CIDR or "any"
	comment string
}

// text renders the rule exactly as `ufw show added` prints it (without the
// leading "ufw "), so that desired and current rules compare as strings.
// The forms were recorded from ufw 0.36 (see testdata/recorded).
func (r ufwRule) text() string {
	var s string
	switch {
	case r.from == "any":
		s = r.action + " " + r.port
		if r.proto != "any" {
			s += "/" + r.proto
		}
	case r.port == "" && r.proto == "vrrp":
		s = r.action + " from " + r.from + " proto vrrp"
	case r.port == "":
		s = r.action + " from " + r.from
	default:
		s = r.action + " from " + r.from + " to any port " + r.port
		if r.proto != "any" {
			s += " proto " + r.proto
		}
	}
	if r.comment != "" {
		s += " comment '" + r.comment + "'"
	}
	return s
}

var (
	ufwPort    = regexp.MustCompile(`^([0-9]+)(:([0-9]+))?$`)
	ufwComment = regexp.MustCompile(`^[^'\n\\]*$`)
)

// parseUfwRule validates one item of the rules argument.
func parseUfwRule(i int, v any) (ufwRule, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return ufwRule{}, fmt.Errorf("ufw: argument rules: item %d: want a mapping, got %T", i, v)
	}
	a := newArgReader(fmt.Sprintf("ufw: argument rules: item %d", i), m, []string{"port", "proto", "from", "action", "comment"}, nil)
	r := ufwRule{
		port:    a.str("port", ""),
		proto:   a.oneOf("proto", "tcp", "tcp", "udp", "any", "vrrp"),
		from:    a.str("from", "any"),
		action:  a.oneOf("action", "allow", "allow", "deny", "reject", "limit"),
		comment: a.str("comment", ""),
	}
	if a.err != nil {
		return r, a.err
	}
	fail := func(arg, format string, args ...any) (ufwRule, error) {
		return r, fmt.Errorf("ufw: argument rules: item %d: %s: %s", i, arg, fmt.Sprintf(format, args...))
	}
	if r.proto == "vrrp" {
		// VRRP (keepalived) is an IP protocol of its own: no port, and
		// only from a named peer.
		if r.port != "" {
			return fail("port", "vrrp has no ports")
		}
		if r.from == "any" {
			return fail("from", "a vrrp rule needs the peer's address")
		}
	} else if r.port != "" {
		p := ufwPort.FindStringSubmatch(r.port)
		if p == nil {
			return fail("port", "%q is not a port or range such as 8000:8010", r.port)
		}
		lo, _ := strconv.Atoi(p[1])
		hi := lo
		if p[3] != "" {
			hi, _ = strconv.Atoi(p[3])
			if r.proto == "any" {
				return fail("proto", "a port range needs tcp or udp")
			}
		}
		if lo < 1 || hi > 65535 || hi < lo {
			return fail("port", "%q is out of range 1-65535", r.port)
		}
	} else {
		if r.from == "any" {
			return fail("port", "required unless from is set (a rule for every port from anywhere)")
		}
		r.proto = "any"
	}
	if r.from != "any" {
		if _, err := netip.ParsePrefix(r.from); err != nil {
			if _, err := netip.ParseAddr(r.from); err != nil {
				return fail("from", "%q is not an address, a CIDR or any", r.from)
			}
		}
	}
	if !ufwComment.MatchString(r.comment) {
		return fail("comment", "must not contain quotes, backslashes or newlines")
	}
	return r, nil
}

// ufwState is the firewall as ufw reports it.
type ufwState struct {
	installed bool
	active    bool
	incoming  string
	outgoing  string
	rules     []string // `ufw show added` lines without the leading "ufw "
}

// parseUfwRead reads the sections printed by ufwRead (hostread's reader).
func parseUfwRead(out string) ufwState {
	f := hostread.ParseFirewall(out)
	return ufwState{installed: f.Installed, active: f.Active, incoming: f.Incoming, outgoing: f.Outgoing, rules: f.Rules}
}

// ruleKey drops the comment: a rule differing only in comment is the same
// rule to ufw, which updates the comment when the rule is added again.
func ruleKey(text string) string {
	if i := strings.Index(text, " comment '"); i >= 0 {
		return text[:i]
	}
	return text
}

// deleteCommand is the ufw command removing a rule printed by show added.
func deleteCommand(text string) (string, error) {
	words, err := shell.Split(ruleKey(text))
	if err != nil {
		return "", fmt.Errorf("ufw: cannot parse rule %q: %w", text, err)
	}
	if len(words) > 0 && words[0] == "route" {
		words = append([]string{"route", "delete"}, words[1:]...)
	} else {
		words = append([]string{"delete"}, words...)
	}
	for i, w := range words {
		words[i] = quote(w)
	}
	return "ufw " + strings.Join(words, " "), nil
}
