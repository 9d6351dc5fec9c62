package modules

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	register("user", []string{"name", "state", "uid", "group", "groups", "shell", "home", "system", "authorized_keys"}, []string{"name"}, newUser)
}

var accountName = regexp.MustCompile(`^[a-z_][a-z0-9_.-]*\$?$`)

// userModule manages a local account and the keys that may log into it.
// Listed supplementary groups are exact; listed keys are added, and keys
// not listed are kept, so that ferry never locks out a key it did not add.
type userModule struct {
	name    string
	state   string
	uid     int // -1: not managed
	group   string
	groups  []string
	hasGrps bool
	shell   string
	home    string
	system  bool
	keys    []string

	script string
}

func newUser(a *argReader) (Module, error) {
	m := &userModule{
		name:    a.str("name", ""),
		state:   a.presence(),
		uid:     a.accountID("uid"),
		group:   a.str("group", ""),
		groups:  a.list("groups"),
		hasGrps: a.has("groups"),
		shell:   a.str("shell", ""),
		home:    a.str("home", ""),
		system:  a.boolean("system", false),
		keys:    a.list("authorized_keys"),
	}
	if a.err != nil {
		return nil, a.err
	}
	if !accountName.MatchString(m.name) {
		return nil, fmt.Errorf("user: argument name: %q is not a valid user name", m.name)
	}
	for _, g := range append([]string{m.group}, m.groups...) {
		if g != "" && !accountName.MatchString(g) {
			return nil, fmt.Errorf("user: argument group(s): %q is not a valid group name", g)
		}
	}
	for i, k := range m.keys {
		if len(strings.Fields(k)) < 2 || strings.Contains(k, "\n") {
			return nil, fmt.Errorf("user: argument authorized_keys: item %d is not a public key line", i)
		}
	}
	slices.Sort(m.groups)
	return m, nil
}

// userRead prints the passwd entry, primary and all groups, and the
// authorized_keys file in one round trip.
const userRead = `echo @@passwd; getent passwd "$u"
echo @@group; id -gn "$u" 2>/dev/null
echo @@groups; id -Gn "$u" 2>/dev/null
echo @@keys; h=$(getent passwd "$u" | cut -d: -f6); [ -n "$h" ] && cat "$h/.ssh/authorized_keys" 2>/dev/null
exit 0`

type userState struct {
	exists bool
	uid    int
	home   string
	shell  string
	group  string
	groups []string // supplementary, sorted
	keys   []string
}

func parseUserRead(out string) (userState, error) {
	secs := sections(out)
	var st userState
	pw := strings.TrimSpace(secs["passwd"])
	if pw == "" {
		return st, nil
	}
	f := strings.Split(pw, ":")
	if len(f) != 7 {
		return st, fmt.Errorf("unexpected passwd entry %q", pw)
	}
	uid, err := strconv.Atoi(f[2])
	if err != nil {
		return st, fmt.Errorf("unexpected uid %q", f[2])
	}
	st = userState{exists: true, uid: uid, home: f[5], shell: f[6], group: strings.TrimSpace(secs["group"])}
	for _, g := range strings.Fields(secs["groups"]) {
		if g != st.group {
			st.groups = append(st.groups, g)
		}
	}
	slices.Sort(st.groups)
	for _, l := range strings.Split(secs["keys"], "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			st.keys = append(st.keys, l)
		}
	}
	return st, nil
}

// keyID is the part of a key line that identifies the key: options and
// comments may differ between copies of the same key.
func keyID(line string) string {
	f := strings.Fields(line)
	for i := 0; i+1 < len(f); i++ {
		if strings.HasPrefix(f[i], "ssh-") || strings.HasPrefix(f[i], "ecdsa-") || strings.HasPrefix(f[i], "sk-") {
			return f[i] + " " + f[i+1]
		}
	}
	return line
}

func (m *userModule) read(ctx context.Context, t *Target) (userState, error) {
	res, err := runOK(ctx, t, "user "+m.name, executor.Command{Script: "u=" + quote(m.name) + "\n" + userRead})
	if err != nil {
		return userState{}, err
	}
	st, err := parseUserRead(string(res.Stdout))
	if err != nil {
		return st, fmt.Errorf("user %s: %w", m.name, err)
	}
	return st, nil
}

// Plan costs one round trip (none in check mode after an earlier task on
// the same account).
func (m *userModule) Plan(ctx context.Context, t *Target) (Change, error) {
	st, err := m.readPredicted(ctx, t)
	if err != nil {
		return Change{}, err
	}
	sum, script := m.plan(st)
	m.script = script
	c := Change{Changed: len(sum) > 0, Summary: sum}
	if c.Changed {
		c.Predict = func(ps *hoststate.State) { m.predict(ps, st) }
	}
	return c, nil
}

func (m *userModule) plan(st userState) ([]string, string) {
	n := quote(m.name)
	if m.state == "absent" {
		if !st.exists {
			return nil, ""
		}
		return []string{"remove user " + m.name + " (home kept)"}, "userdel " + n + "\n"
	}
	var sum, flags []string
	if !st.exists {
		if m.system {
			flags = append(flags, "-r")
		}
		if m.uid >= 0 {
			flags = append(flags, "-u", strconv.Itoa(m.uid))
		}
		if m.group != "" {
			flags = append(flags, "-g", quote(m.group))
		}
		if len(m.groups) > 0 {
			flags = append(flags, "-G", quote(strings.Join(m.groups, ",")))
		}
		if m.shell != "" {
			flags = append(flags, "-s", quote(m.shell))
		}
		if m.home != "" {
			flags = append(flags, "-d", quote(m.home))
		}
		sum = append(sum, "create user "+m.name)
		script := "useradd -m " + strings.Join(append(flags, n), " ") + "\n"
		if len(m.keys) > 0 {
			sum = append(sum, fmt.Sprintf("add %d authorized key(s) for %s", len(m.keys), m.name))
			script += m.keysScript(m.keys)
		}
		return sum, script
	}
	if m.uid >= 0 && m.uid != st.uid {
		sum = append(sum, fmt.Sprintf("set uid of %s to %d (was %d)", m.name, m.uid, st.uid))
		flags = append(flags, "-u", strconv.Itoa(m.uid))
	}
	if m.group != "" && m.group != st.group {
		sum = append(sum, "set primary group of "+m.name+" to "+m.group+" (was "+st.group+")")
		flags = append(flags, "-g", quote(m.group))
	}
	if m.hasGrps && !slices.Equal(m.groups, st.groups) {
		sum = append(sum, "set groups of "+m.name+" to ["+strings.Join(m.groups, ",")+"] (was ["+strings.Join(st.groups, ",")+"])")
		flags = append(flags, "-G", quote(strings.Join(m.groups, ",")))
	}
	if m.shell != "" && m.shell != st.shell {
		sum = append(sum, "set shell of "+m.name+" to "+m.shell+" (was "+st.shell+")")
		flags = append(flags, "-s", quote(m.shell))
	}
	if m.home != "" && m.home != st.home {
		sum = append(sum, "move home of "+m.name+" to "+m.home+" (was "+st.home+")")
		flags = append(flags, "-d", quote(m.home), "-m")
	}
	var script string
	if len(flags) > 0 {
		script = "usermod " + strings.Join(append(flags, n), " ") + "\n"
	}
	have := map[string]bool{}
	for _, k := range st.keys {
		have[keyID(k)] = true
	}
	var add []string
	for _, k := range m.keys {
		if !have[keyID(k)] {
			add = append(add, k)
		}
	}
	if len(add) > 0 {
		sum = append(sum, fmt.Sprintf("add %d authorized key(s) for %s", len(add), m.name))
		script += m.keysScript(add)
	}
	return sum, script
}

// keysScript appends keys to the user's authorized_keys with the modes sshd
// insists on, owned by the user.
func (m *userModule) keysScript(keys []string) string {
	n := quote(m.name)
	var b strings.Builder
	b.WriteString("h=$(getent passwd " + n + " | cut -d: -f6); g=$(id -gn " + n + ")\n")
	b.WriteString(`install -d -m 700 -o ` + n + ` -g "$g" "$h/.ssh"` + "\n")
	b.WriteString(`f="$h/.ssh/authorized_keys"` + "\n")
	b.WriteString(`if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >> "$f"; fi` + "\n")
	for _, k := range keys {
		b.WriteString("printf '%s\\n' " + quote(k) + ` >> "$f"` + "\n")
	}
	b.WriteString(`chown ` + n + `:"$g" "$f"; chmod 600 "$f"` + "\n")
	return b.String()
}

// Apply runs the planned commands in one round trip and verifies with one read.
func (m *userModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if _, err := runOK(ctx, t, "user "+m.name, executor.Command{Script: "set -e\n" + m.script}); err != nil {
		return c, err
	}
	st, err := m.read(ctx, t)
	if err != nil {
		return c, fmt.Errorf("user %s: verify: %w", m.name, err)
	}
	if left, _ := m.plan(st); len(left) > 0 {
		return c, fmt.Errorf("user %s: verify: still needs %v", m.name, left)
	}
	return c, nil
}
