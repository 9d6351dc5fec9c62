package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	register("package", []string{"names", "state", "cache_valid_time"}, []string{"names"}, newPackage)
}

var packageName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9+._-]*$`)

// packageModule installs or removes packages with apt or dnf (yum).
type packageModule struct {
	names     []string
	state     string
	cacheTime int

	mgr     string
	missing []string // to install (present) or to remove (absent)
	update  bool     // apt-get update first
}

func newPackage(a *argReader) (Module, error) {
	m := &packageModule{
		names:     a.list("names"),
		state:     a.presence(),
		cacheTime: a.integer("cache_valid_time", 3600, 0, 1<<30),
	}
	if a.err != nil {
		return nil, a.err
	}
	if len(m.names) == 0 {
		return nil, fmt.Errorf("package: argument names: empty list")
	}
	for _, n := range m.names {
		if !packageName.MatchString(n) {
			return nil, fmt.Errorf("package: argument names: %q is not a package name", n)
		}
	}
	return m, nil
}

// aptStatusRead prints each package's dpkg status: all a no-op needs.
const aptStatusRead = `echo "@@status"; dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' "$@" 2>/dev/null; exit 0`

// aptCacheRead prints, for packages not installed, apt-cache policy (one
// call for them all; a candidate version means the cache can install the
// package) and the age of the package lists: that of the newest of apt's
// periodic stamp and the lists directory, which "apt-get update" touches.
// It is a read of its own, made only when a package is missing: a plan
// stops at a host's first change, and on fresh hosts that comes before
// the package tasks, so their apt-cache calls (up to a second each while
// apt rebuilds its cache after an update) are not paid twice.
const aptCacheRead = `echo "@@policy"; apt-cache policy "$@" 2>/dev/null
now=$(date +%s); t=0
for m in $(stat -c %Y /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists 2>/dev/null); do
  [ "$m" -gt "$t" ] && t=$m
done
echo "@@age"; echo $((now - t))
exit 0`

// rpmRead prints the installed packages among the names.
const rpmRead = `echo "@@status"; for p in "$@"; do rpm -q --qf '%{NAME}\tii\n' "$p" 2>/dev/null; done; exit 0`

// policyCandidates reads apt-cache policy's "NAME:" blocks: the candidate
// version of each package apt knows, "(none)" for one it cannot install
// (purely virtual, or pinned away). A name apt does not know has no block.
func policyCandidates(out string) map[string]string {
	c := map[string]string{}
	name := ""
	for _, line := range strings.Split(out, "\n") {
		if n, ok := strings.CutSuffix(line, ":"); ok && !strings.HasPrefix(line, " ") {
			name = n
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Candidate: "); ok && name != "" {
			c[name] = v
		}
	}
	return c
}

// aptState is what the package reads found (aptStatusRead, aptCacheRead, rpmRead).
type aptState struct {
	age       int             // seconds since the last apt-get update (not read, 0, when every package is installed)
	installed map[string]bool // names dpkg reports as installed
	known     map[string]bool // names apt-cache can install
}

func parseAptRead(out string) (aptState, error) {
	secs := sections(out)
	st := aptState{installed: map[string]bool{}, known: map[string]bool{}}
	if a, ok := secs["age"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil {
			return st, fmt.Errorf("cache age %q: %w", a, err)
		}
		st.age = n
	}
	for _, line := range strings.Split(secs["status"], "\n") {
		name, status, ok := strings.Cut(strings.TrimSpace(line), "\t")
		// "ii" is installed; "rc" (removed, config left) and others are not.
		if ok && strings.HasPrefix(strings.TrimSpace(status), "ii") {
			st.installed[strings.SplitN(name, ":", 2)[0]] = true
		}
	}
	for name, candidate := range policyCandidates(secs["policy"]) {
		st.known[name] = candidate != "(none)"
	}
	return st, nil
}

func (m *packageModule) read(ctx context.Context, t *Target) (aptState, error) {
	script := aptStatusRead
	if m.mgr != "apt" {
		script = rpmRead
	}
	out, err := m.run(ctx, t, script, m.names)
	if err != nil {
		return aptState{}, err
	}
	st, err := parseAptRead(out)
	if err != nil {
		return st, fmt.Errorf("package: %w", err)
	}
	if m.mgr != "apt" || m.state != "present" {
		return st, nil
	}
	var missing []string
	for _, n := range m.names {
		if !st.installed[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return st, nil
	}
	more, err := m.run(ctx, t, aptCacheRead, missing)
	if err != nil {
		return aptState{}, err
	}
	if st, err = parseAptRead(out + more); err != nil {
		return st, fmt.Errorf("package: %w", err)
	}
	return st, nil
}

// run runs a read script with names as its arguments.
func (m *packageModule) run(ctx context.Context, t *Target, script string, names []string) (string, error) {
	words := make([]string, len(names))
	for i, n := range names {
		words[i] = quote(n)
	}
	res, err := runOK(ctx, t, "package "+strings.Join(m.names, " "), executor.Command{
		Script: "set -- " + strings.Join(words, " ") + "\n" + script,
	})
	return string(res.Stdout), err
}

// Plan costs one round trip.
func (m *packageModule) Plan(ctx context.Context, t *Target) (Change, error) {
	switch mgr, _ := t.Facts["pkg_mgr"].(string); mgr {
	case "apt", "dnf", "yum":
		m.mgr = mgr
	default:
		return Change{}, fmt.Errorf("package: no supported package manager on this host (facts pkg_mgr=%q)", mgr)
	}
	st, err := m.read(ctx, t)
	if err != nil {
		return Change{}, err
	}
	if t.State != nil {
		if err := m.overlay(t.State.State, &st); err != nil {
			return Change{}, err
		}
	}
	m.plan(st)
	c := m.change()
	if c.Changed {
		c.Predict = m.predict
	}
	return c, nil
}

// overlay puts check mode's prediction over what the host has: packages
// earlier tasks install or remove, and a refreshed apt cache. A package no
// earlier task names is unknown once any package changes: installing one
// may pull in others, removing one may take others along.
func (m *packageModule) overlay(ps *hoststate.State, st *aptState) error {
	_, updated := ps.Fact("apt", "updated")
	if updated {
		st.age = 0
	}
	for _, n := range m.names {
		if v, ok := ps.Fact(hoststate.Packages, n); ok {
			st.installed[n], st.known[n] = v == "installed", true
			continue
		}
		if why := ps.Touched(hoststate.Packages); why != "" {
			return &hoststate.UnknownError{What: "package " + n, Because: why + ", which may install or remove it too"}
		}
		if updated {
			st.known[n] = true
		}
	}
	return nil
}

// predict records the packages as Apply leaves them.
func (m *packageModule) predict(ps *hoststate.State) {
	v, verb := "installed", "installs "
	if m.state == "absent" {
		v, verb = "absent", "removes "
	}
	for _, n := range m.missing {
		ps.SetFact(hoststate.Packages, n, v)
	}
	if m.update {
		ps.SetFact("apt", "updated", "yes")
	}
	ps.Touch(hoststate.Packages, "an earlier task "+verb+strings.Join(m.missing, ", "))
}

// plan decides from one read what to install or remove and whether the
// apt cache must be refreshed first: only when it is older than
// cache_valid_time or does not know a package to install.
func (m *packageModule) plan(st aptState) {
	m.missing, m.update = nil, false
	for _, n := range m.names {
		if st.installed[n] == (m.state == "absent") {
			m.missing = append(m.missing, n)
		}
	}
	if m.mgr != "apt" || m.state != "present" || len(m.missing) == 0 {
		return
	}
	m.update = st.age > m.cacheTime
	for _, n := range m.missing {
		if !st.known[n] {
			m.update = true
		}
	}
}

func (m *packageModule) change() Change {
	if len(m.missing) == 0 {
		return Change{}
	}
	c := Change{Changed: true}
	if m.update {
		c.Summary = append(c.Summary, "apt-get update")
	}
	verb := "install "
	if m.state == "absent" {
		verb = "remove "
	}
	c.Summary = append(c.Summary, verb+strings.Join(m.missing, ", "))
	return c
}

// script installs or removes every planned package in one call.
func (m *packageModule) script() (string, map[string]string) {
	words := make([]string, len(m.missing))
	for i, n := range m.missing {
		words[i] = quote(n)
	}
	pkgs := strings.Join(words, " ")
	if m.mgr != "apt" {
		verb := "install"
		if m.state == "absent" {
			verb = "remove"
		}
		return m.mgr + " -y -q " + verb + " " + pkgs + "\n", nil
	}
	var b strings.Builder
	b.WriteString("set -e\n")
	if m.update {
		b.WriteString("apt-get update -q\n")
	}
	if m.state == "absent" {
		b.WriteString("apt-get remove -y -q " + pkgs + "\n")
	} else {
		// Keep existing config files without asking: ferry manages them.
		b.WriteString("apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold " + pkgs + "\n")
	}
	return b.String(), map[string]string{"DEBIAN_FRONTEND": "noninteractive"}
}

// Apply runs the package manager once and verifies with one more read.
func (m *packageModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	script, env := m.script()
	if _, err := runOK(ctx, t, "package "+strings.Join(m.missing, " "), executor.Command{Script: script, Env: env}); err != nil {
		return c, err
	}
	st, err := m.read(ctx, t)
	if err != nil {
		return c, fmt.Errorf("package: verify: %w", err)
	}
	m.plan(st)
	if len(m.missing) > 0 {
		return c, fmt.Errorf("package: verify: still not %s: %s", m.state, strings.Join(m.missing, ", "))
	}
	return c, nil
}
