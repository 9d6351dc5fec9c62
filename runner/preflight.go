package runner

import (
	"errors"
	"fmt"
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
func (e *Engine) preflight(plays []Play) error {
	stub := map[string]any{}
	for _, p := range plays {
		for _, r := range p.Roles {
			for _, t := range append(append([]*rolesTask{}, r.Tasks...), r.Handlers...) {
				if t.Register != "" {
					stub[t.Register] = skippedResult()
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
		defaults := roleDefaults(p.Roles)
		for _, h := range p.Hosts {
			hr := e.hosts[h.Name]
			if hr == nil || hr.stats.Unreachable {
				continue
			}
			vars := e.hostVars(hr, defaults)
			for _, r := range p.Roles {
				for _, t := range append(append([]*rolesTask{}, r.Tasks...), r.Handlers...) {
					if !e.selectedByTags(t.Tags) && !t.IsHandler {
						continue
					}
					if err := e.checkTask(t, vars, stub); err != nil {
						add(fmt.Errorf("host %s: %w", h.Name, err))
					}
				}
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

// checkTask renders one task for one host as runTask would.
func (e *Engine) checkTask(t *rolesTask, vars, stub map[string]any) error {
	if t.Module == modules.FlushHandlers {
		return nil
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
		if _, err := e.buildModule(t, taskData(vars, stub, item, looped)); err != nil {
			return err
		}
	}
	return nil
}
