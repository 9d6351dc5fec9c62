package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	args := []string{"cmd", "creates", "removes", "unless", "onlyif", "chdir", "stdin"}
	register("command", args, []string{"cmd"}, newCommand("command"))
	register("shell", args, []string{"cmd"}, newCommand("shell"))
}

// commandModule runs a command unless its guards say it has done its work.
// "shell" runs cmd as shell text; "command" runs it as words, so $, |, > and
// friends reach the program literally.
type commandModule struct {
	name    string
	cmd     string // display form
	script  string // what is run
	creates string
	removes string
	unless  string
	onlyif  string
	chdir   string
	stdin   *string
}

func newCommand(name string) func(a *argReader) (Module, error) {
	return func(a *argReader) (Module, error) {
		m := &commandModule{
			name:    name,
			creates: a.str("creates", ""),
			removes: a.str("removes", ""),
			unless:  a.str("unless", ""),
			onlyif:  a.str("onlyif", ""),
			chdir:   a.str("chdir", ""),
		}
		if a.has("stdin") {
			s := a.str("stdin", "")
			m.stdin = &s
		}
		var words []string
		if name == "command" {
			if _, isList := a.m["cmd"].([]any); isList {
				words = a.list("cmd")
			} else if s := a.str("cmd", ""); a.err == nil {
				var err error
				if words, err = shell.Split(s); err != nil {
					return nil, fmt.Errorf("command: argument cmd: %w", err)
				}
			}
			quoted := make([]string, len(words))
			for i, w := range words {
				quoted[i] = quote(w)
			}
			m.script = strings.Join(quoted, " ")
			m.cmd = strings.Join(words, " ")
		} else {
			m.cmd = a.str("cmd", "")
			m.script = m.cmd
		}
		if a.err != nil {
			return nil, a.err
		}
		if strings.TrimSpace(m.script) == "" {
			return nil, fmt.Errorf("%s: argument cmd: empty", name)
		}
		return m, nil
	}
}

func (m *commandModule) hasGuards() bool {
	return m.creates != "" || m.removes != "" || m.unless != "" || m.onlyif != ""
}

// guardScript evaluates every guard in one round trip and prints "run" or
// the reason to skip. A missing chdir is reported, not fatal: in check mode
// an earlier task may be about to create it.
func (m *commandModule) guardScript(predicted map[string]bool) string {
	var b strings.Builder
	if m.chdir != "" {
		b.WriteString("cd -- " + quote(m.chdir) + " 2>/dev/null || { echo nochdir; exit 0; }\n")
	}
	if m.creates != "" && !predicted["creates"] {
		b.WriteString("if [ -e " + quote(m.creates) + " ]; then echo 'skip creates'; exit 0; fi\n")
	}
	if m.removes != "" && !predicted["removes"] {
		b.WriteString("if [ ! -e " + quote(m.removes) + " ]; then echo 'skip removes'; exit 0; fi\n")
	}
	if m.unless != "" {
		b.WriteString("if (\n" + m.unless + "\n) </dev/null >/dev/null 2>&1; then echo 'skip unless'; exit 0; fi\n")
	}
	if m.onlyif != "" {
		b.WriteString("if ! (\n" + m.onlyif + "\n) </dev/null >/dev/null 2>&1; then echo 'skip onlyif'; exit 0; fi\n")
	}
	b.WriteString("echo run\n")
	return b.String()
}

// Plan runs the guards only (read-only by contract): no round trip without
// guards, one with any number of them.
func (m *commandModule) Plan(ctx context.Context, t *Target) (Change, error) {
	run := Change{Changed: true, Summary: []string{"run: " + m.cmd}}
	if !m.hasGuards() {
		return run, nil
	}
	predicted := map[string]bool{}
	if t.State != nil {
		out, err := m.predictedGuards(ctx, t, predicted)
		if err != nil {
			return Change{}, err
		}
		if out != "" {
			return m.guardChange(out, run)
		}
		if len(predicted) == 2 && m.unless == "" && m.onlyif == "" && m.chdir == "" {
			return run, nil
		}
	}
	res, err := runOK(ctx, t, m.name+" guards for "+m.cmd, executor.Command{Script: m.guardScript(predicted), Env: t.Env})
	if err != nil {
		return Change{}, err
	}
	return m.guardChange(strings.TrimSpace(string(res.Stdout)), run)
}

// predictedGuards decides, in check mode, the creates and removes guards
// whose path an earlier task would change, and marks them in predicted.
// It returns "skip creates" or "skip removes" when one of them skips. The
// other guards are commands that read the host, so when an earlier task
// would change it their answer is unknown.
func (m *commandModule) predictedGuards(ctx context.Context, t *Target, predicted map[string]bool) (string, error) {
	if m.creates == "" {
		predicted["creates"] = true
	}
	if m.removes == "" {
		predicted["removes"] = true
	}
	if why := t.State.State.Changed(); why != "" && (m.unless != "" || m.onlyif != "" || m.chdir != "") {
		return "", &hoststate.UnknownError{What: "the guards of " + m.name + " " + m.cmd, Because: why}
	}
	for _, g := range []struct{ name, path string }{{"creates", m.creates}, {"removes", m.removes}} {
		if g.path == "" {
			continue
		}
		exists, ok, err := t.State.Exists(ctx, g.path, t.Become)
		if err != nil {
			return "", err
		}
		if !ok && t.State.State.Touched(hoststate.Packages) != "" {
			// A package an earlier task installs may create the path.
			fi, err := t.State.Stat(ctx, g.path, t.Become)
			if err != nil {
				return "", err
			}
			exists, ok = fi.Exists, true
		}
		if !ok {
			continue
		}
		predicted[g.name] = true
		if g.name == "creates" && exists || g.name == "removes" && !exists {
			return "skip " + g.name, nil
		}
	}
	return "", nil
}

func (m *commandModule) guardChange(out string, run Change) (Change, error) {
	switch out {
	case "run":
		return run, nil
	case "nochdir":
		run.Summary[0] += " (in " + m.chdir + ", which does not exist yet)"
		return run, nil
	case "skip creates":
		return Change{Summary: []string{"skip: " + m.creates + " exists"}}, nil
	case "skip removes":
		return Change{Summary: []string{"skip: " + m.removes + " does not exist"}}, nil
	case "skip unless":
		return Change{Summary: []string{"skip: unless succeeded"}}, nil
	case "skip onlyif":
		return Change{Summary: []string{"skip: onlyif failed"}}, nil
	default:
		return Change{}, fmt.Errorf("%s guards for %s: unexpected output %q", m.name, m.cmd, out)
	}
}

// Writes are the paths the command's guards name: the only ones check
// mode assumes it changes (see doc/check-mode.md).
func (m *commandModule) Writes() []string {
	var out []string
	for _, p := range []string{m.creates, m.removes} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Apply runs the command; its result is returned in Output for register.
func (m *commandModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	script := m.script
	if m.chdir != "" {
		script = "cd -- " + quote(m.chdir) + " || exit\n" + script
	}
	cmd := executor.Command{Script: script, Env: t.Env}
	if m.stdin != nil {
		cmd.Stdin = strings.NewReader(*m.stdin)
	}
	res, err := run(ctx, t, m.name+" "+m.cmd, cmd)
	if err != nil {
		return c, err
	}
	c.Output = &res
	if !res.OK() {
		return c, fmt.Errorf("%s %q: exit %d: %s", m.name, m.cmd, res.ExitCode, tail(res.Stderr, res.Stdout))
	}
	return c, nil
}
