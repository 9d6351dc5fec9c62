package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/modules"
	"github.com/ferry-deploy/ferry/templates"
)

// hostVars is the template data of a host for one play: its merged
// variables plus what ferry knows about it.
func (e *Engine) hostVars(hr *hostRun, defaults map[string]any) map[string]any {
	vars := e.inv.VarsFor(hr.host, defaults, e.opts.Extra)
	vars["inventory_hostname"] = hr.host.Name
	groups := make([]any, len(hr.host.Groups))
	for i, g := range hr.host.Groups {
		groups[i] = g
	}
	vars["host"] = map[string]any{"name": hr.host.Name, "address": hr.host.Address, "groups": groups}
	vars["facts"] = hr.facts
	return vars
}

// taskData is what one task (and loop item) renders against: the host's
// vars, the results registered so far, and the loop item.
func taskData(vars, registered map[string]any, item any, hasItem bool) map[string]any {
	data := make(map[string]any, len(vars)+len(registered)+1)
	maps.Copy(data, vars)
	maps.Copy(data, registered)
	if hasItem {
		data["item"] = item
	}
	return data
}

// skippedResult is what register stores for a task that did not run, so
// later tasks can test .name.skipped instead of failing on a missing key.
func skippedResult() map[string]any {
	return map[string]any{"changed": false, "failed": false, "skipped": true, "rc": 0, "stdout": "", "stderr": ""}
}

// taskName names a task in errors: file, line and the task's name.
func taskName(t *roles.Task) string {
	file := t.File // a file of tasks/ for imported and included tasks
	if file == "" {
		file = t.Role.Source
	}
	return fmt.Sprintf("%s:%d (task %q)", file, t.Line, t.Name)
}

// loopItems returns the items a task runs for; nil with ok=false for a task
// without a loop.
func (e *Engine) loopItems(t *roles.Task, data map[string]any) ([]any, bool, error) {
	switch {
	case t.LoopVar != "":
		v, found := data[t.LoopVar]
		if !found {
			return nil, true, fmt.Errorf("%s: loop variable %q is not defined", taskName(t), t.LoopVar)
		}
		items, isList := v.([]any)
		if !isList {
			return nil, true, fmt.Errorf("%s: loop variable %q is %T, not a list", taskName(t), t.LoopVar, v)
		}
		return items, true, nil
	case t.LoopExpr != "":
		v, err := e.opts.Render.RenderValue(taskName(t), t.LoopExpr, data)
		if err != nil {
			return nil, true, err
		}
		items, err := listOf(v)
		if err != nil {
			return nil, true, fmt.Errorf("%s: loop %s: %w", taskName(t), t.LoopExpr, err)
		}
		return items, true, nil
	case t.LoopItems != nil:
		out := make([]any, len(t.LoopItems))
		for i, it := range t.LoopItems {
			r, err := e.opts.Render.RenderValue(taskName(t), it, data)
			if err != nil {
				return nil, true, err
			}
			out[i] = r
		}
		return out, true, nil
	}
	return nil, false, nil
}

// buildModule renders a task's arguments for one host (and item) and builds
// its module. Template and copy sources are read and rendered here, on the
// controller, so modules only ever see content.
func (e *Engine) buildModule(t *roles.Task, data map[string]any) (modules.Module, error) {
	spec, ok := modules.Lookup(t.Module)
	if !ok {
		return nil, fmt.Errorf("%s: unknown module %q", taskName(t), t.Module)
	}
	rendered, err := e.opts.Render.RenderValue(taskName(t), t.Args, data)
	if err != nil {
		return nil, err
	}
	args, _ := rendered.(map[string]any)
	if args == nil {
		args = map[string]any{}
	}
	if err := e.inlineFiles(t, spec, args, data); err != nil {
		return nil, err
	}
	m, err := spec.New(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", taskName(t), t.Module, err)
	}
	return m, nil
}

// runTask runs one task (all its loop items) on a host. fatal means the host
// must stop: the task failed and ignore_errors was not set, or the host
// became unreachable.
func (e *Engine) runTask(ctx context.Context, hr *hostRun, t *roles.Task, vars map[string]any, hs *handlerState) (ok, fatal bool) {
	kind := "task"
	if t.IsHandler {
		kind = "handler"
	}
	e.watchTask(hr, t)
	data := taskData(vars, hr.registered, nil, false)
	if hr.predicted != nil {
		if why := unknownReads(hr.registered, taskTexts(t)...); why != "" {
			e.unknownTask(ctx, hr, kind, t, data, hs, why)
			return true, false
		}
	}
	vars, err := e.withTaskVars(t, vars, hr.registered)
	if err != nil {
		return e.fail(hr, kind, t, "", err, nil)
	}
	data = taskData(vars, hr.registered, nil, false)
	if t.When != "" {
		run, err := e.opts.Render.Eval(taskName(t), t.When, data)
		if err != nil {
			return e.fail(hr, kind, t, "", err, nil)
		}
		if !run {
			hr.stats.Skipped++
			e.register(hr, t, skippedFor(t))
			e.taskEvent(hr, Event{Kind: kind, Host: hr.host.Name, Role: t.Role.Name, Task: t.Name, Status: StatusSkipped}, "")
			return true, false
		}
	}
	items, looped, err := e.loopItems(t, data)
	if err != nil {
		return e.fail(hr, kind, t, "", err, nil)
	}
	if !looped {
		items = []any{nil}
	}
	anyChanged, unknownWhy := false, ""
	var last map[string]any
	for _, item := range items {
		itemLabel := ""
		if looped {
			itemLabel = itemName(item)
		}
		status, result, err := e.runUntil(ctx, hr, t, taskData(vars, hr.registered, item, looped), kind, itemLabel)
		last = result
		if err != nil {
			if errors.Is(err, executor.ErrUnreachable) {
				hr.stats.Unreachable = true
				e.opts.Report.Event(Event{Kind: "host", Host: hr.host.Name, Status: StatusUnreachable, Message: err.Error()})
				return false, true
			}
			var drift *PlanDriftError
			if errors.As(err, &drift) {
				// Refused whatever ignore_errors says: the host is not
				// the one the plan was reviewed for.
				hr.stats.Refused = true
				e.fail(hr, kind, t, itemLabel, err, nil)
				return false, true
			}
			if ok, fatal := e.fail(hr, kind, t, itemLabel, err, result); fatal {
				return ok, fatal
			}
			continue
		}
		anyChanged = anyChanged || status == StatusChanged
		if status == StatusUnknown && unknownWhy == "" {
			unknownWhy = result["rc"].(hoststate.Value).Because
		}
	}
	if last != nil {
		last["changed"] = anyChanged
		if unknownWhy != "" && !anyChanged {
			last["changed"] = hoststate.Value{Because: unknownWhy}
		}
		e.register(hr, t, last)
	}
	if anyChanged && len(t.Notify) > 0 {
		if err := e.notify(ctx, hr, hs, t.Notify); err != nil {
			return e.fail(hr, kind, t, "", err, nil)
		}
	} else if unknownWhy != "" && hs != nil {
		hs.maybeNotify(t.Notify, t.Name)
	}
	return true, false
}

func (e *Engine) register(hr *hostRun, t *roles.Task, result map[string]any) {
	if t.Register != "" {
		hr.registered[t.Register] = result
	}
}

// fail reports a failed task; it is fatal for the host unless ignored.
func (e *Engine) fail(hr *hostRun, kind string, t *roles.Task, item string, err error, result map[string]any) (ok, fatal bool) {
	if t.IgnoreErrors {
		// Ignored: reported, but the run does not fail for it.
		hr.stats.Ignored++
	} else {
		hr.stats.Failed++
	}
	msg := err.Error()
	var ve *executor.ValidationError
	if errors.As(err, &ve) {
		msg = fmt.Sprintf("candidate rejected by %q, the live file is unchanged:\n%s", ve.Command, ve.Output)
	}
	if t.NoLog {
		// The error is still shown: a failure must be explained, and every
		// secret value is masked by the reporter anyway. no_log hides what
		// a task writes, not why it failed.
		msg = "(no_log task) " + msg
	}
	if t.IgnoreErrors {
		msg += " (ignored)"
	}
	e.taskEvent(hr, Event{Kind: kind, Host: hr.host.Name, Role: t.Role.Name, Task: t.Name, Item: item, Status: StatusFailed, Message: msg}, "")
	r := result
	if r == nil {
		r = skippedResult()
		r["skipped"] = false
	}
	r["failed"] = true
	e.register(hr, t, r)
	if t.IgnoreErrors {
		return false, false
	}
	return false, true
}

// listOf turns what a loop expression rendered into loop items. Lists of
// typed values (the hosts helper's HostView) are accepted as they are.
func listOf(v any) ([]any, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("gave %T, not a list", v)
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}

// itemName labels a loop item in output. A host is shown by its name only:
// its variables may hold secrets and are too long to read anyway.
func itemName(item any) string {
	switch v := item.(type) {
	case templates.HostView:
		return v.Name
	case map[string]any:
		if n, ok := v["name"].(string); ok {
			return n
		}
	}
	return fmt.Sprint(item)
}
