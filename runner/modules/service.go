package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hostread"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	// Not convergent: restarted and reloaded change every time.
	register("service", []string{"name", "state", "enabled"}, []string{"name"}, newService)
}

var serviceName = regexp.MustCompile(`^[A-Za-z0-9@._:\\-]+$`)

// serviceModule starts, stops, restarts or reloads a service and sets
// whether it starts at boot.
type serviceModule struct {
	name      string
	state     string // "" leaves the running state alone
	enabled   *bool
	sysv      bool
	actions   []string // verbs planned, in order: unmask, enable, disable, start, ...
	notLoaded bool
}

func newService(a *argReader) (Module, error) {
	m := &serviceModule{name: a.str("name", "")}
	if a.has("state") {
		m.state = a.oneOf("state", "", "started", "stopped", "restarted", "reloaded")
	}
	if a.has("enabled") {
		e := a.boolean("enabled", false)
		m.enabled = &e
	}
	if a.err != nil {
		return nil, a.err
	}
	if !serviceName.MatchString(m.name) {
		return nil, fmt.Errorf("service: argument name: %q is not a service name", m.name)
	}
	if m.state == "" && m.enabled == nil {
		return nil, fmt.Errorf("service: argument state or enabled: one is required")
	}
	return m, nil
}

// serviceState is what one read of a service shows (hostread's reader).
type serviceState = hostread.Service

func (m *serviceModule) read(ctx context.Context, t *Target) (serviceState, error) {
	r := hostread.ServiceState(m.name, m.sysv)
	res, err := runOK(ctx, t, "service "+m.name, executor.Command{Script: r.Script})
	if err != nil {
		return serviceState{}, err
	}
	return r.Parse(string(res.Stdout))
}

// Plan costs one round trip.
func (m *serviceModule) Plan(ctx context.Context, t *Target) (Change, error) {
	m.sysv = t.Facts["init"] == "sysvinit"
	st, err := m.readPredicted(ctx, t)
	if err != nil {
		return Change{}, err
	}
	m.notLoaded = !st.Loaded
	if t.State != nil && m.notLoaded {
		// Nothing earlier in the run installs it (that would have made
		// it unknown), so the real run fails here: so does the plan.
		return Change{}, fmt.Errorf("service %s: not installed on this host", m.name)
	}
	m.actions = planService(st, m.state, m.enabled)
	c := Change{Changed: len(m.actions) > 0}
	if c.Changed {
		c.Predict = func(ps *hoststate.State) { ps.SetFact("service", m.name, m.after(st).String()) }
	}
	for _, a := range m.actions {
		line := a + " " + m.name
		if m.notLoaded {
			line += " (not installed yet)"
		}
		c.Summary = append(c.Summary, line)
	}
	return c, nil
}

// unitDirs hold the definitions of services (systemd units, init scripts).
var unitDirs = []string{"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system", "/run/systemd/system", "/etc/init.d"}

// readPredicted reads the service, or in check mode takes what an earlier
// task of the run would have left. A package an earlier task installs or
// removes may bring, start or take the service: then it is unknown.
func (m *serviceModule) readPredicted(ctx context.Context, t *Target) (serviceState, error) {
	if t.State != nil {
		if v, ok := t.State.State.Fact("service", m.name); ok {
			return hostread.ParseService(v), nil
		}
		if why := t.State.State.Touched(hoststate.Packages); why != "" {
			return serviceState{}, &hoststate.UnknownError{What: "service " + m.name, Because: why + ", which may bring, start or stop it"}
		}
		for _, dir := range unitDirs {
			if p := t.State.State.Below(dir); p != "" {
				return serviceState{}, &hoststate.UnknownError{What: "service " + m.name, Because: "an earlier task writes " + p + ", which may define it"}
			}
		}
	}
	return m.read(ctx, t)
}

// after is the state the planned verbs leave.
func (m *serviceModule) after(st serviceState) serviceState {
	for _, a := range m.actions {
		switch a {
		case "start", "restart", "reload":
			st.Active = "active"
		case "stop":
			st.Active = "inactive"
		case "enable":
			st.Enabled = "enabled"
		case "disable":
			st.Enabled = "disabled"
		}
	}
	return st
}

// planService lists the verbs that take st to the wanted state. A unit that
// is not installed is planned as if stopped and disabled: in check mode an
// earlier task may install it, and Apply fails if nobody did.
func planService(st serviceState, state string, enabled *bool) []string {
	var acts []string
	if !st.Loaded {
		st = serviceState{Active: "inactive", Enabled: "disabled"}
	}
	if enabled != nil {
		switch {
		case *enabled && st.Enabled == "masked":
			acts = append(acts, "unmask", "enable")
		case *enabled && !st.IsEnabled():
			acts = append(acts, "enable")
		case !*enabled && st.IsEnabled() && st.CanDisable():
			acts = append(acts, "disable")
		}
	}
	switch state {
	case "started":
		if !st.Running() {
			acts = append(acts, "start")
		}
	case "stopped":
		if st.Running() {
			acts = append(acts, "stop")
		}
	case "restarted":
		acts = append(acts, "restart")
	case "reloaded":
		// Reloading a stopped service fails; starting it loads the config.
		if st.Running() {
			acts = append(acts, "reload")
		} else {
			acts = append(acts, "start")
		}
	}
	return acts
}

// script turns the planned verbs into commands for the init system.
func (m *serviceModule) script() string {
	n := quote(m.name)
	var b strings.Builder
	b.WriteString("set -e\n")
	for _, a := range m.actions {
		switch {
		case !m.sysv && (a == "start" || a == "restart"):
			// A unit that failed to start repeatedly before (a package's
			// postinst started it with its default arguments) is refused
			// by its start limit until reset ("Start request repeated too
			// quickly"), even though its configuration is now right.
			b.WriteString("systemctl reset-failed -- " + n + " 2>/dev/null || true\n")
			b.WriteString("systemctl " + a + " -- " + n + "\n")
		case !m.sysv:
			b.WriteString("systemctl " + a + " -- " + n + "\n")
		case a == "enable":
			b.WriteString("if command -v update-rc.d >/dev/null; then update-rc.d " + n + " defaults >/dev/null; update-rc.d " + n + " enable; else chkconfig " + n + " on; fi\n")
		case a == "disable":
			b.WriteString("if command -v update-rc.d >/dev/null; then update-rc.d " + n + " disable; else chkconfig " + n + " off; fi\n")
		case a == "unmask":
		default:
			b.WriteString("service " + n + " " + a + "\n")
		}
	}
	return b.String()
}

// Apply runs the verbs in one round trip, then reads the state once more
// to verify; a failure carries the service's status for the user.
func (m *serviceModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if _, err := runOK(ctx, t, "service "+m.name, executor.Command{Script: m.script()}); err != nil {
		return c, fmt.Errorf("%w%s", err, m.status(ctx, t))
	}
	st, err := m.read(ctx, t)
	if err != nil {
		return c, fmt.Errorf("service %s: verify: %w", m.name, err)
	}
	state := m.state
	if state == "restarted" || state == "reloaded" {
		state = "started"
	}
	if left := planService(st, state, m.enabled); len(left) > 0 || !st.Loaded {
		return c, fmt.Errorf("service %s: verify: still needs %v (active=%s enabled=%s)%s", m.name, left, st.Active, st.Enabled, m.status(ctx, t))
	}
	return c, nil
}

// status fetches the service's own account of itself for an error message.
func (m *serviceModule) status(ctx context.Context, t *Target) string {
	script := "systemctl status --no-pager -n 10 -- " + quote(m.name) + " 2>&1"
	if m.sysv {
		script = "service " + quote(m.name) + " status 2>&1"
	}
	res, err := run(ctx, t, "service status", executor.Command{Script: script})
	if err != nil || len(res.Stdout) == 0 {
		return ""
	}
	return "\n" + tail(nil, res.Stdout)
}
