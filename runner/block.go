package runner

import (
	"context"
	"fmt"
	"maps"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/modules"
)

// outcome is how a list of tasks ended on a host.
type outcome int

const (
	listDone    outcome = iota // every task ran, or its failure was ignored
	listFailed                 // a task failed: a block's rescue may handle it
	listLost                   // unreachable or refused: nothing more runs there
	listStopped                // cancelled, or a flush of handlers failed
)

// runList runs tasks and blocks in order on one host.
func (e *Engine) runList(ctx context.Context, p Play, hr *hostRun, tasks []*roles.Task, vars map[string]any, hs *handlerState) outcome {
	for _, t := range tasks {
		if ctx.Err() != nil {
			return listStopped
		}
		if t.IsInclude() {
			if o := e.runInclude(ctx, p, hr, t, vars, hs); o != listDone {
				return o
			}
			continue
		}
		if t.IsBlock() {
			if o := e.runBlock(ctx, p, hr, t, vars, hs); o != listDone {
				return o
			}
			continue
		}
		if !e.selectedByTags(t.Tags) || !e.startReached(p, hr, t) {
			continue
		}
		if t.Module == modules.FlushHandlers {
			e.flushHandlers(ctx, p, hr, vars, hs)
			if hr.failed {
				return listStopped
			}
			continue
		}
		if t.RunOnce && hr.once != nil {
			if o := e.runOnce(ctx, hr, t, vars, hs); o != listDone {
				return o
			}
			continue
		}
		if _, fatal := e.runTask(ctx, hr, t, vars, hs); fatal {
			if hr.stats.Unreachable || hr.stats.Refused {
				return listLost
			}
			return listFailed
		}
	}
	return listDone
}

// runBlock runs a block's tasks; when one fails, its rescue tasks (the
// failure then counts as rescued, not failed); then its always tasks, in
// every case but a lost host or a cancelled run.
func (e *Engine) runBlock(ctx context.Context, p Play, hr *hostRun, b *roles.Task, vars map[string]any, hs *handlerState) outcome {
	failedBefore, uncertainBefore := hr.stats.Failed, hr.uncertain
	o := e.runList(ctx, p, hr, b.Block, vars, hs)
	switch {
	case o == listFailed && len(b.Rescue) > 0:
		n := hr.stats.Failed - failedBefore
		hr.stats.Failed -= n
		hr.stats.Rescued += n
		o = e.runList(ctx, p, hr, b.Rescue, vars, hs)
	case o == listDone && len(b.Rescue) > 0 && hr.predicted != nil && hr.uncertain > uncertainBefore:
		// Check mode: a task of the block may fail in the real run (a
		// command that runs only then, an unknown task), so whether the
		// rescue tasks run is unknown.
		e.unknownList(ctx, hr, b.Rescue, vars, hs, "it runs only if a task of its block fails, which check mode cannot tell")
	}
	if o == listLost || o == listStopped {
		return o
	}
	if len(b.Always) > 0 {
		if a := e.runList(ctx, p, hr, b.Always, vars, hs); a != listDone {
			return a
		}
	}
	return o
}

// unknownList reports every task of a list unknown (check mode).
func (e *Engine) unknownList(ctx context.Context, hr *hostRun, tasks []*roles.Task, vars map[string]any, hs *handlerState, why string) {
	for _, t := range roles.Flatten(tasks) {
		if !e.selectedByTags(t.Tags) || t.Module == modules.FlushHandlers {
			continue
		}
		tv, err := e.withTaskVars(t, vars, hr.registered)
		if err != nil {
			tv = vars
		}
		e.unknownTask(ctx, hr, "task", t, taskData(tv, hr.registered, nil, false), hs, why)
	}
}

// runInclude runs an include_tasks: its when, loop and vars are evaluated
// once, here; its tasks then run once per item, with .item set.
func (e *Engine) runInclude(ctx context.Context, p Play, hr *hostRun, t *roles.Task, vars map[string]any, hs *handlerState) outcome {
	if !e.selectedByTags(t.Tags) {
		return listDone
	}
	if hr.predicted != nil {
		if why := unknownReads(hr.registered, taskTexts(t)...); why != "" {
			e.unknownList(ctx, hr, t.Include, vars, hs, fmt.Sprintf("included by %q, whose when, loop or vars read an unknown value: %s", t.Name, why))
			return listDone
		}
	}
	vars, err := e.withTaskVars(t, vars, hr.registered)
	if err != nil {
		return e.includeFailed(hr, t, err)
	}
	data := taskData(vars, hr.registered, nil, false)
	if t.When != "" {
		run, err := e.opts.Render.Eval(taskName(t), t.When, data)
		if err != nil {
			return e.includeFailed(hr, t, err)
		}
		if !run {
			return listDone
		}
	}
	items, looped, err := e.loopItems(t, data)
	if err != nil {
		return e.includeFailed(hr, t, err)
	}
	if !looped {
		return e.runList(ctx, p, hr, t.Include, vars, hs)
	}
	for _, item := range items {
		v := maps.Clone(vars)
		v["item"] = item
		if o := e.runList(ctx, p, hr, t.Include, v, hs); o != listDone {
			return o
		}
	}
	return listDone
}

func (e *Engine) includeFailed(hr *hostRun, t *roles.Task, err error) outcome {
	if _, fatal := e.fail(hr, "task", t, "", err, nil); fatal {
		return listFailed
	}
	return listDone
}
