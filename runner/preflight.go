package runner

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/modules"
)

// maxPreflightErrors bounds how many problems one run reports: enough to fix
// several at once, not a wall of repeats across many hosts.
const maxPreflightErrors = 10

// preflight renders every task of every play for every reachable host and
// builds its module, without touching any host, so that a missing variable,
// a template error or a bad argument value stops the deploy before the first
// change. Results a task registers are not known yet: they stand in as
// "skipped" results, and a task whose when: depends on one is checked as if
// it were skipped.
func (e *Engine) preflight(plays []Play) error { return e.preflightHosts(plays, false) }

// preflightStatic is preflight before any connection: it checks, for every
// host, the tasks that do not read facts (their arguments, when:, loop and
// template never mention them), so that a bad argument (an unquoted mode,
// a relative path, an unknown state) is bad input even when a host is
// unreachable. Tasks that read facts wait for the facts: preflight.
func (e *Engine) preflightStatic(plays []Play) error { return e.preflightHosts(plays, true) }

func (e *Engine) preflightHosts(plays []Play, static bool) error {
	stub := map[string]any{}
	for _, p := range plays {
		for _, r := range p.Roles {
			for _, t := range append(roles.Flatten(r.Tasks), r.Handlers...) {
				if t.Module == "set_fact" {
					// Their values are known when the task runs; a
					// literal stands for itself, a template for "".
					for k, v := range t.Args {
						if str, ok := v.(string); ok && strings.Contains(str, "{{") {
							v = ""
						}
						stub[k] = v
					}
				}
				if t.Register != "" {
					stub[t.Register] = skippedFor(t)
				}
			}
		}
	}
	var errs []error
	seen := map[string]bool{}
	add := func(err error) {
		if msg := err.Error(); !seen[msg] {
			seen[msg] = true
			errs = append(errs, err)
		}
	}
	for _, p := range plays {
		defaults := p.defaults()
		for _, h := range p.Hosts {
			hr := e.hostRun(h.Name)
			if static {
				hr = &hostRun{host: h, facts: map[string]any{}}
			}
			if hr == nil || hr.stats.Unreachable {
				continue
			}
			vars := e.hostVars(hr, defaults)
			for _, r := range p.Roles {
				e.checkList(append(slices.Clone(r.Tasks), r.Handlers...), vars, stub, static, func(err error) {
					add(fmt.Errorf("host %s: %w", h.Name, err))
				})
			}
			for _, r := range p.Included { // include_role: their handlers
				e.checkList(r.Handlers, vars, stub, static, func(err error) {
					add(fmt.Errorf("host %s: %w", h.Name, err))
				})
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(errs) > maxPreflightErrors {
		errs = append(errs[:maxPreflightErrors], fmt.Errorf("... and %d more", len(errs)-maxPreflightErrors))
	}
	return errors.Join(errs...)
}

// checkList checks tasks, blocks and includes for one host. The tasks of
// an include_tasks with a loop are checked once per item, with .item set.
func (e *Engine) checkList(tasks []*rolesTask, vars, stub map[string]any, static bool, add func(error)) {
	for _, t := range tasks {
		switch {
		case t.IsBlock():
			e.checkList(t.Block, vars, stub, static, add)
			e.checkList(t.Rescue, vars, stub, static, add)
			e.checkList(t.Always, vars, stub, static, add)
		case t.IsInclude():
			if !e.selectedByTags(t.Tags) || static && readsFacts(t) {
				continue
			}
			iv, err := e.withTaskVars(t, vars, stub)
			if err != nil {
				add(err)
				continue
			}
			data := taskData(iv, stub, nil, false)
			if t.When != "" {
				run, err := e.opts.Render.Eval(taskName(t), t.When, data)
				if err != nil {
					add(err)
				}
				if err != nil || !run {
					continue
				}
			}
			items, looped, err := e.loopItems(t, data)
			if err != nil {
				add(err)
				continue
			}
			if !looped {
				e.checkList(t.Include, iv, stub, static, add)
			}
			for _, item := range items {
				v := maps.Clone(iv)
				v["item"] = item
				e.checkList(t.Include, v, stub, static, add)
			}
		default:
			if !e.selectedByTags(t.Tags) && !t.IsHandler || static && readsFacts(t) {
				continue
			}
			if err := e.checkTask(t, vars, stub); err != nil {
				add(err)
			}
		}
	}
}

// checkTask renders one task for one host as runTask would.
func (e *Engine) checkTask(t *rolesTask, vars, stub map[string]any) error {
	if t.Module == modules.FlushHandlers {
		return nil
	}
	vars, err := e.withTaskVars(t, vars, stub)
	if err != nil {
		return err
	}
	data := taskData(vars, stub, nil, false)
	if t.When != "" {
		run, err := e.opts.Render.Eval(taskName(t), t.When, data)
		if err != nil {
			return err
		}
		if !run {
			return nil
		}
	}
	items, looped, err := e.loopItems(t, data)
	if err != nil {
		return err
	}
	if !looped {
		items = []any{nil}
	}
	for _, item := range items {
		d := taskData(vars, stub, item, looped)
		if _, err := e.buildModule(t, d); err != nil {
			return err
		}
		if _, err := e.taskEnv(t, d); err != nil {
			return err
		}
		if err := e.checkArgvSecret(t, d); err != nil {
			return err
		}
		if _, err := e.delegateName(t, d); err != nil {
			return err
		}
		if _, err := e.becomeUser(t, "", d); err != nil {
			return err
		}
	}
	return nil
}

// checkArgvSecret refuses a `command` task whose words hold a secret: the
// program's arguments are visible in the host's process list (ps, /proc)
// while it runs, whatever ferry does with the script. A `shell` task's
// text travels on stdin like every script; what the programs it starts
// are given is its own business (see doc/guarantees.md).
func (e *Engine) checkArgvSecret(t *rolesTask, data map[string]any) error {
	if t.Module != "command" || e.inv == nil {
		return nil
	}
	v, err := e.opts.Render.RenderValue(taskName(t), t.Args["cmd"], data)
	if err != nil {
		return err
	}
	if words := fmt.Sprint(v); e.inv.Redact(words) != words {
		return fmt.Errorf("%s: command: an argument holds a secret, which the host's process list would show while the program runs; give it on stdin (stdin:), or in a shell task through a here-document or printf (builtins run no program)", taskName(t))
	}
	return nil
}

// readsFacts tells whether a task may depend on the host's facts: its
// arguments, when:, loop or template mention them. An unreadable template
// counts as reading them (preflight reports it once the facts are known).
func readsFacts(t *rolesTask) bool {
	text := fmt.Sprint(t.Args) + t.When + t.LoopVar + t.LoopExpr + fmt.Sprint(t.LoopItems) + fmt.Sprint(t.Vars) + fmt.Sprint(t.Environment)
	texts, unreadable := templateTexts(t)
	if unreadable {
		return true
	}
	text += strings.Join(texts, "")
	return strings.Contains(text, "facts")
}
