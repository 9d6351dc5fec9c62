package hostread

import (
	"regexp"
	"strings"

	"github.com/ferry-deploy/ferry/internal/shell"
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

// UFW reads the firewall, as root. Whether it is enabled comes from
// ufw.conf, which is what `ufw status` itself consults, and the default
// policies from /etc/default/ufw, which `ufw default` writes; both are read
// by the shell itself. The rules come from `ufw show added`, a Python
// program of ~60 ms a start (the largest part of a no-op's work on a host):
// its output is kept in /run/ferry/ufw-added under a key made of the hashes
// of the two rule files it renders and of ufw's package file list, so that
// it runs again only when the rules or ufw itself changed (a cache in /run:
// gone at boot, root's only, derived from files anyone with root can read).
// With ReadOnlyEnv set (check mode: the host is left as it was) the cache
// is read but never written.
var UFW = Reader[Firewall]{
	Name:   "ufw",
	Script: ufwScript("/etc/ufw", "/etc/default/ufw", "/var/lib/dpkg/info/ufw.md5sums", "/run/ferry/ufw-added"),
	Parse:  infallible(ParseFirewall),
}

// ReadOnlyEnv, set to 1 in a read's environment, asks a reader to leave
// the host exactly as it was: no cache written.
const ReadOnlyEnv = "FERRY_READ_ONLY"

// ufwScript is UFW's script with its paths: ufw's configuration folder,
// its defaults file, the file naming ufw's version, and the cache.
func ufwScript(etc, defaults, version, cache string) string {
	return `etc=` + shell.Quote(etc) + ` c=` + shell.Quote(cache) + `
echo @@status
if command -v ufw >/dev/null 2>&1; then
  e='Status: inactive'
  { while IFS= read -r l || [ -n "$l" ]; do [ "$l" = ENABLED=yes ] && e='Status: active'; done; } 2>/dev/null <"$etc/ufw.conf"
  echo "$e"
else
  echo 'ufw: command not found'
fi
echo @@added
set -f
set -- $(sha256sum "$etc/user.rules" "$etc/user6.rules" ` + shell.Quote(version) + ` 2>/dev/null)
k="$*"
h=
{ IFS= read -r h; } 2>/dev/null <"$c"
if [ -n "$k" ] && [ "$h" = "$k" ]; then
  sed 1d "$c"
else
  o=$(ufw show added 2>&1) && [ -n "$k" ] && [ -z "${` + ReadOnlyEnv + `:-}" ] &&
    (umask 077; mkdir -p "${c%/*}" && printf '%s\n%s\n' "$k" "$o" >"$c.$$" && mv -f "$c.$$" "$c") 2>/dev/null
  printf '%s\n' "$o"
fi
echo @@defaults
{ while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done; } 2>/dev/null <` + shell.Quote(defaults) + `
exit 0`
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
