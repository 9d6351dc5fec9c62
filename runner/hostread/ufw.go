package hostread

import (
	"regexp"
	"strings"
)

// Firewall is ufw's state: whether it is there and on, its default
// policies and its rules.
type Firewall struct {
	Installed bool
	Active    bool
	Incoming  string // default policy: allow, deny, reject
	Outgoing  string
	Rules     []string // `ufw show added` lines without the leading "ufw "
}

// UFW reads the firewall with a single start of ufw (a Python program,
// ~50 ms a start): whether it is enabled comes from ufw.conf, which is what
// `ufw status` itself consults, and the default policies from
// /etc/default/ufw, which `ufw default` writes. Run it as root.
var UFW = Reader[Firewall]{
	Name: "ufw",
	Script: `echo @@status
if command -v ufw >/dev/null 2>&1; then
  if grep -qx 'ENABLED=yes' /etc/ufw/ufw.conf 2>/dev/null; then echo 'Status: active'; else echo 'Status: inactive'; fi
else
  echo 'ufw: command not found'
fi
echo @@added; ufw show added 2>&1
echo @@defaults; cat /etc/default/ufw 2>/dev/null
exit 0`,
	Parse: infallible(ParseFirewall),
}

var ufwDefaultLine = regexp.MustCompile(`^Default: (\w+) \(incoming\), (\w+) \(outgoing\)`)

// ParseFirewall reads the three sections UFW's script prints (or `ufw
// status verbose` as the status section: its Default: line then gives the
// policies).
func ParseFirewall(out string) Firewall {
	secs := Sections(out)
	st := Firewall{Installed: strings.Contains(secs["status"], "Status:")}
	policy := map[string]string{"DROP": "deny", "ACCEPT": "allow", "REJECT": "reject"}
	for _, l := range strings.Split(secs["defaults"], "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(l), "=")
		v = policy[strings.Trim(v, `"`)]
		switch k {
		case "DEFAULT_INPUT_POLICY":
			st.Incoming = v
		case "DEFAULT_OUTPUT_POLICY":
			st.Outgoing = v
		}
	}
	for _, l := range strings.Split(secs["status"], "\n") {
		l = strings.TrimSpace(l)
		if l == "Status: active" {
			st.Active = true
		}
		if m := ufwDefaultLine.FindStringSubmatch(l); m != nil {
			st.Incoming, st.Outgoing = m[1], m[2]
		}
	}
	for _, l := range strings.Split(secs["added"], "\n") {
		if r, ok := strings.CutPrefix(strings.TrimSpace(l), "ufw "); ok {
			st.Rules = append(st.Rules, r)
		}
	}
	return st
}
