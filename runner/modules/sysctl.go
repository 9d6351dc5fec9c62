package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	register("sysctl", []string{"name", "value", "file"}, []string{"name", "value"}, newSysctl)
}

var sysctlName = regexp.MustCompile(`^[a-z0-9_]+(\.[A-Za-z0-9_*-]+)+$`)

// sysctlModule sets a kernel parameter now and persists it in a file.
type sysctlModule struct {
	name  string
	value string
	file  string

	cur      sysctlState
	newFile  []byte // nil when the file is right
	setValue bool
	become   bool
}

func newSysctl(a *argReader) (Module, error) {
	m := &sysctlModule{
		name:  a.str("name", ""),
		value: normalizeSysctl(a.str("value", "")),
		file:  a.str("file", "/etc/sysctl.d/99-ferry.conf"),
	}
	if a.err != nil {
		return nil, a.err
	}
	if !sysctlName.MatchString(m.name) {
		return nil, fmt.Errorf("sysctl: argument name: %q is not a sysctl key such as net.ipv4.ip_forward", m.name)
	}
	if m.value == "" || strings.ContainsAny(m.value, "\n") {
		return nil, fmt.Errorf("sysctl: argument value: must be one non-empty line")
	}
	if !strings.HasPrefix(m.file, "/") {
		return nil, fmt.Errorf("sysctl: argument file: %q is not an absolute path", m.file)
	}
	return m, nil
}

// normalizeSysctl collapses whitespace: the kernel prints tabs between the
// fields of multi-valued keys (net.ipv4.tcp_rmem) where users write spaces.
func normalizeSysctl(v string) string { return strings.Join(strings.Fields(v), " ") }

// sysctlRead prints the live value and the persisted file in one round trip.
const sysctlRead = `echo @@value; sysctl -n -- "$n" 2>&1 || echo @@unknown
echo @@file; if [ -e "$f" ]; then echo present; cat -- "$f"; fi
exit 0`

type sysctlState struct {
	value      string
	unknown    bool
	fileExists bool
	file       string
}

func parseSysctlRead(out string) sysctlState {
	secs := sections(out)
	_, unknown := secs["unknown"]
	st := sysctlState{value: normalizeSysctl(secs["value"]), unknown: unknown}
	if head, rest, ok := strings.Cut(secs["file"], "\n"); ok && head == "present" {
		st.fileExists, st.file = true, rest
	}
	return st
}

// Plan costs one round trip.
func (m *sysctlModule) Plan(ctx context.Context, t *Target) (Change, error) {
	res, err := runOK(ctx, t, "sysctl "+m.name, executor.Command{Script: "n=" + quote(m.name) + " f=" + quote(m.file) + "\n" + sysctlRead})
	if err != nil {
		return Change{}, err
	}
	st := parseSysctlRead(string(res.Stdout))
	if st.unknown {
		return Change{}, fmt.Errorf("sysctl %s: unknown key: %s", m.name, st.value)
	}
	if t.State != nil {
		if err := m.overlay(ctx, t, &st); err != nil {
			return Change{}, err
		}
	}
	m.cur, m.become = st, t.Become
	c := m.plan(st)
	if c.Changed {
		c.Predict = m.predict
	}
	return c, nil
}

// overlay puts check mode's prediction over what the host has: the value
// an earlier task sets, and the file as earlier tasks write it (several
// keys usually share one file).
func (m *sysctlModule) overlay(ctx context.Context, t *Target, st *sysctlState) error {
	ps := t.State.State
	if v, ok := ps.Fact("sysctl", m.name); ok {
		st.value = v
	} else if why := ps.Touched(hoststate.Packages); why != "" {
		return &hoststate.UnknownError{What: "sysctl " + m.name, Because: why + ", which may set it"}
	}
	fi, content, ok, err := t.State.Text(ctx, m.file, t.Become)
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", m.name, err)
	}
	if ok {
		st.fileExists, st.file = fi.Exists, string(content)
	}
	return nil
}

// predict records the value and the file as Apply leaves them.
func (m *sysctlModule) predict(ps *hoststate.State) {
	ps.SetFact("sysctl", m.name, m.value)
	if m.newFile != nil {
		ps.Set(m.file, fileEntry(m.newFile, executor.UploadOptions{Mode: 0o644, Become: m.become}))
	}
}

// Writes is the file the task writes.
func (m *sysctlModule) Writes() []string { return []string{m.file} }

func (m *sysctlModule) plan(st sysctlState) Change {
	var c Change
	m.setValue = st.value != m.value
	if m.setValue {
		c.Summary = append(c.Summary, "sysctl -w "+m.name+"="+m.value+" (was "+st.value+")")
	}
	re := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(m.name) + `\s*=`)
	next := editLines(st.file, m.name+" = "+m.value, re, "present")
	m.newFile = nil
	if next != st.file || !st.fileExists {
		m.newFile = []byte(next)
		c.Summary = append(c.Summary, "persist "+m.name+" = "+m.value+" in "+m.file)
		c.Diff = fileDiff(m.file, []byte(st.file), m.newFile, false)
	}
	c.Changed = len(c.Summary) > 0
	return c
}

// Apply writes the file and sets the live value, then verifies both.
func (m *sysctlModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if m.newFile != nil {
		o := executor.UploadOptions{Mode: 0o644, Become: t.Become}
		if err := t.Exec.Upload(ctx, m.file, m.newFile, o); err != nil {
			return c, fmt.Errorf("sysctl %s: write %s: %w", m.name, m.file, err)
		}
	}
	if m.setValue {
		if _, err := runOK(ctx, t, "sysctl "+m.name, executor.Command{Script: "sysctl -q -w " + quote(m.name+"="+m.value)}); err != nil {
			return c, err
		}
	}
	return c, verifyByPlan(ctx, m, t, "sysctl "+m.name)
}
