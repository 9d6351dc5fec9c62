package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/modspec"
)

// systemd_unit installs a unit file (content, or src: a template of the
// role rendered on the controller) the way copy writes files, runs
// `systemctl daemon-reload` only when the file changed, then enables and
// starts (stops, restarts) the unit as service does, all planned from one
// read: a new unit is planned as systemd will see it after the reload.
// A changed file does not restart a running unit: notify a handler (or
// give state: restarted) for that, as with Ansible's systemd module.
func init() {
	user := []string{"name", "src", "content", "path", "mode", "state", "enabled", "daemon_reload"}
	// The engine renders src into content, so the factory never sees src.
	Register(withFile(newSpec("systemd_unit", user, []string{"name"}, without(user, "src"), []string{"name"}, newSystemdUnit),
		modspec.FileArg{Arg: "src", Folder: modspec.Templates, Into: "content"}))
}

var unitSuffix = regexp.MustCompile(`\.(service|socket|timer|path|mount|automount|target|slice)$`)

type systemdUnit struct {
	name   string
	file   *copyModule    // nil: the unit file is not managed
	svc    *serviceModule // nil: neither state nor enabled
	reload bool

	rewrite bool         // Plan: the file's content changes
	reloads bool         // Plan: daemon-reload runs
	after   serviceState // Plan: the unit as the planned verbs leave it
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func newSystemdUnit(a *argReader) (Module, error) {
	m := &systemdUnit{name: a.str("name", ""), reload: a.boolean("daemon_reload", true)}
	if !strings.Contains(m.name, ".") {
		m.name += ".service"
	}
	file := a.str("path", "/etc/systemd/system/"+m.name)
	mode := a.str("mode", "0644")
	if a.err != nil {
		return nil, a.err
	}
	if !serviceName.MatchString(m.name) || !unitSuffix.MatchString(m.name) {
		return nil, fmt.Errorf("systemd_unit: argument name: %q is not a unit name (NAME.service, .timer, .socket, ...)", m.name)
	}
	if !path.IsAbs(file) || path.Base(file) != m.name {
		return nil, fmt.Errorf("systemd_unit: argument path: %q must be an absolute path ending in the unit's name %s", file, m.name)
	}
	if a.has("content") {
		cm, err := mustNew("copy", map[string]any{"dest": file, "content": a.m["content"], "mode": mode})
		if err != nil {
			return nil, fmt.Errorf("systemd_unit: %w", err)
		}
		m.file = cm.(*copyModule)
	}
	if a.has("state") || a.has("enabled") {
		args := map[string]any{"name": m.name}
		for _, k := range []string{"state", "enabled"} {
			if a.has(k) {
				args[k] = a.m[k]
			}
		}
		sm, err := mustNew("service", args)
		if err != nil {
			return nil, fmt.Errorf("systemd_unit: %s", strings.TrimPrefix(err.Error(), "service: "))
		}
		m.svc = sm.(*serviceModule)
	}
	if m.file == nil && m.svc == nil {
		return nil, fmt.Errorf("systemd_unit: give content or src (the unit file), state or enabled")
	}
	return m, nil
}

// hasInstall tells whether a unit file can be enabled: without an
// [Install] section systemd calls it static.
func hasInstall(content []byte) bool {
	for _, l := range strings.Split(string(content), "\n") {
		if strings.TrimSpace(l) == "[Install]" {
			return true
		}
	}
	return false
}

// Plan costs the file's Stat (and a read for the diff when it changes)
// plus one read of the unit's state.
func (m *systemdUnit) Plan(ctx context.Context, t *Target) (Change, error) {
	if init, _ := t.Facts["init"].(string); init != "" && init != "systemd" {
		return Change{}, fmt.Errorf("systemd_unit %s: the host's init is %s, not systemd", m.name, init)
	}
	var c Change
	m.rewrite, m.reloads = false, false
	if m.file != nil {
		fc, err := m.file.Plan(ctx, t)
		if err != nil {
			return Change{}, fmt.Errorf("systemd_unit %s: %w", m.name, err)
		}
		c = fc
		m.rewrite = m.file.rewrite
		m.reloads = m.rewrite && m.reload
	}
	if m.reloads {
		c.Summary = append(c.Summary, "systemctl daemon-reload")
	}
	if m.svc != nil {
		st, err := m.svc.readPredicted(ctx, t)
		if err != nil {
			return Change{}, err
		}
		if m.file != nil && !st.Loaded && !m.reloads && m.reload {
			// The file is there but systemd has not read it yet.
			m.reloads = true
			c.Summary = append(c.Summary, "systemctl daemon-reload")
		}
		if m.reloads && !st.Loaded {
			// What systemd knows of the new unit after the reload.
			st = serviceState{Loaded: true, Active: "inactive", Enabled: "disabled"}
			if !hasInstall(m.file.content) {
				st.Enabled = "static"
			}
		}
		if !st.Loaded && (t.State != nil || m.file == nil) {
			return Change{}, fmt.Errorf("systemd_unit %s: not installed on this host (give content or src)", m.name)
		}
		m.svc.actions = planService(st, m.svc.state, m.svc.enabled)
		m.after = m.svc.after(st)
		for _, a := range m.svc.actions {
			c.Summary = append(c.Summary, a+" "+m.name)
		}
	}
	c.Changed = len(c.Summary) > 0
	filePredict := c.Predict
	c.Predict = nil
	if c.Changed {
		c.Predict = func(st *hoststate.State) {
			if filePredict != nil {
				filePredict(st)
			}
			if m.svc != nil {
				st.SetFact("service", m.name, m.after.String())
			}
		}
	}
	return c, nil
}

// Writes is the unit file.
func (m *systemdUnit) Writes() []string {
	if m.file == nil {
		return nil
	}
	return m.file.Writes()
}

// Apply writes the file, reloads systemd if it changed, then runs the
// planned verbs; each step verifies itself.
func (m *systemdUnit) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if m.file != nil && (m.rewrite || len(m.file.attrs.fixes(m.file.dest, m.file.cur)) > 0) {
		if _, err := m.file.Apply(ctx, t, c); err != nil {
			return c, fmt.Errorf("systemd_unit %s: %w", m.name, err)
		}
	}
	if m.reloads {
		if _, err := runOK(ctx, t, "systemd_unit "+m.name, executor.Command{Script: "systemctl daemon-reload"}); err != nil {
			return c, err
		}
	}
	if m.svc != nil && len(m.svc.actions) > 0 {
		if _, err := m.svc.Apply(ctx, t, c); err != nil {
			return c, fmt.Errorf("systemd_unit: %w", err)
		}
	}
	return c, nil
}
