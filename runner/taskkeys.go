package runner

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/templates"
)

// This file holds the task keys that shape how a task runs rather than
// what it does: vars, environment, failed_when and until/retries/delay.

// withTaskVars returns the host's vars with the task's own vars: on top
// (rendered against the host's vars and registered results). Extra vars
// (-e) still win, as they do over every other variable.
func (e *Engine) withTaskVars(t *roles.Task, vars, registered map[string]any) (map[string]any, error) {
	if len(t.Vars) == 0 {
		return vars, nil
	}
	rendered, err := e.opts.Render.RenderValue(taskName(t)+" vars", t.Vars, taskData(vars, registered, nil, false))
	if err != nil {
		return nil, err
	}
	out := maps.Clone(vars)
	if m, ok := rendered.(map[string]any); ok {
		maps.Copy(out, m)
	}
	maps.Copy(out, e.opts.Extra)
	return out, nil
}

// taskEnv renders the task's environment: for one item.
func (e *Engine) taskEnv(t *roles.Task, data map[string]any) (map[string]string, error) {
	if len(t.Environment) == 0 {
		return nil, nil
	}
	rendered, err := e.opts.Render.RenderValue(taskName(t)+" environment", t.Environment, data)
	if err != nil {
		return nil, err
	}
	m, _ := rendered.(map[string]any)
	env := make(map[string]string, len(m))
	for k, v := range m {
		env[k] = fmt.Sprint(v)
	}
	return env, nil
}

// resultData is what failed_when and until read: the item's data plus the
// task's result as .result and under its register name.
func resultData(t *roles.Task, data, result map[string]any) map[string]any {
	out := maps.Clone(data)
	out["result"] = result
	if t.Register != "" {
		out[t.Register] = result
	}
	return out
}

// resultCondition evaluates expr (failed_when, until) over a task's
// result. known is false in check mode when expr reads a value check mode
// cannot know (what a command that runs only for real printed).
func (e *Engine) resultCondition(t *roles.Task, what, expr string, data, result map[string]any) (value, known bool, err error) {
	rd := resultData(t, data, result)
	if why := unknownReads(rd, templates.WrapExpr(expr)); why != "" {
		return false, false, nil
	}
	v, err := e.opts.Render.Eval(taskName(t)+" "+what, expr, rd)
	return v, err == nil, err
}

// FailedWhenError is a task that failed_when declared failed.
type FailedWhenError struct{ Expr string }

func (e *FailedWhenError) Error() string {
	return fmt.Sprintf("failed_when %q is true", e.Expr)
}

// judge applies failed_when to an item's outcome: moduleErr is what the
// module reported (nil on success). It returns the item's error and
// updates result["failed"].
func (e *Engine) judge(t *roles.Task, data, result map[string]any, moduleErr error) error {
	if t.FailedWhen == "" || result == nil {
		if result != nil && moduleErr != nil {
			result["failed"] = true
		}
		return moduleErr
	}
	failed, known, err := e.resultCondition(t, "failed_when", t.FailedWhen, data, result)
	if err != nil {
		return err
	}
	if !known {
		// Check mode: the command runs only for real; whether it fails
		// is unknown, as the result it registers is.
		return nil
	}
	result["failed"] = failed
	if failed {
		return &FailedWhenError{Expr: t.FailedWhen}
	}
	return nil
}

// heldEvent is an event kept back while a task may still be retried.
type heldEvent struct {
	ev     Event
	change string
}

// runUntil runs one item, again while until: is false, at most
// t.Retries more times, t.Delay seconds apart. Only the last attempt's
// events are reported, with how many attempts it took; the stats count
// the last attempt only (the tasks counter counts every attempt).
func (e *Engine) runUntil(ctx context.Context, hr *hostRun, t *roles.Task, data map[string]any, kind, item string) (Status, map[string]any, error) {
	if t.Until == "" {
		return e.runItem(ctx, hr, t, data, kind, item)
	}
	attempts := t.Retries + 1
	anyChanged := false
	for n := 1; ; n++ {
		before := hr.stats
		var held []heldEvent
		hr.held = &held
		status, result, err := e.runItem(ctx, hr, t, data, kind, item)
		hr.held = nil
		anyChanged = anyChanged || status == StatusChanged
		done, known, cerr := true, true, error(nil)
		if result != nil && status != StatusUnknown {
			done, known, cerr = e.resultCondition(t, "until", t.Until, data, result)
			done = done || !known
		}
		last := n >= attempts || cerr != nil || ctx.Err() != nil
		if !done && !last {
			tasks := hr.stats.Tasks
			hr.stats = before
			hr.stats.Tasks = tasks
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(t.Delay) * time.Second):
			}
			continue
		}
		if cerr != nil {
			err = cerr
		} else if !done && err == nil {
			err = fmt.Errorf("until %q still false after %d attempts", t.Until, n)
			if result != nil {
				result["failed"] = true
			}
		}
		if err != nil {
			// The failure is reported by the caller; drop the
			// attempt's ok/changed event and its count.
			tasks := hr.stats.Tasks
			hr.stats = before
			hr.stats.Tasks = tasks
			held = nil
		}
		if anyChanged && status == StatusOK && err == nil {
			// An earlier attempt changed the host: the task did.
			status = StatusChanged
			hr.stats.OK--
			hr.stats.Changed++
			if len(held) > 0 {
				held[len(held)-1].ev.Status = StatusChanged
			}
		}
		for _, h := range held {
			if n > 1 {
				h.ev.Message = fmt.Sprintf("after %d attempts", n)
			}
			e.taskEvent(hr, h.ev, h.change)
		}
		if result != nil && anyChanged {
			result["changed"] = true
		}
		if result != nil {
			result["attempts"] = n
		}
		return status, result, err
	}
}

// judgesResult: a failed command's result is kept for failed_when and
// until to read, instead of failing the item at once.
func judgesResult(t *roles.Task) bool {
	return t.FailedWhen != "" || t.Until != ""
}

// setFacts stores set_fact's variables for the host's later tasks; a
// variable given with -e keeps its value, as in Ansible.
func (e *Engine) setFacts(hr *hostRun, facts map[string]any) {
	for k, v := range facts {
		if _, extra := e.opts.Extra[k]; !extra {
			hr.registered[k] = v
		}
	}
}

// skippedFor is what a skipped task registers (and what preflight
// assumes before a task ran): the common result plus the keys its module
// and until: add, so that templates reading them render.
func skippedFor(t *roles.Task) map[string]any {
	r := skippedResult()
	if t.Until != "" {
		r["attempts"] = 0
	}
	if t.Module == "stat" {
		r["stat"] = map[string]any{"exists": false, "isdir": false, "islink": false, "link_target": "",
			"mode": "", "owner": "", "group": "", "size": 0, "checksum": ""}
	}
	return r
}
