package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/modules"
)

// itemRun is one task (one loop item) on one host: it builds the module,
// plans, then predicts (check mode) or drains and applies, merges the
// result, judges it, counts and reports it. Each step is one method that
// returns done=true with the item's itemOutcome when the run ends there, so
// run reads as the list of steps.
type itemRun struct {
	e          *Engine
	hr         *hostRun
	t          *roles.Task
	data       map[string]any
	kind, item string

	start time.Time
	calls int64 // the host's round trips when the item began

	m      modules.Module
	target *modules.Target
	ch     modules.Change
	// planned is the hash of the planned change (saved plans, steps.go).
	planned string
	// result is what register stores; moduleErr a command's failure that
	// failed_when may still accept.
	result    map[string]any
	moduleErr error
	// restore undoes what retarget did (delegate_to, become_user).
	restore func()
}

// itemOutcome is what a step ends the item with.
type itemOutcome struct {
	status Status
	result map[string]any
	err    error
}

// runItem plans, and unless in check mode applies, one item. Verifying is
// the module's part of Apply (see modules.Module): it knows what to read back.
func (e *Engine) runItem(ctx context.Context, hr *hostRun, t *roles.Task, data map[string]any, kind, item string) (Status, map[string]any, error) {
	r := &itemRun{e: e, hr: hr, t: t, data: data, kind: kind, item: item, start: time.Now(), calls: hr.exec.calls.Load()}
	o := r.run(ctx)
	if o.status != StatusOK && o.status != StatusSkipped && hr.firstNotOK < 0 {
		hr.firstNotOK = hr.stats.Tasks - 1
	}
	return o.status, o.result, o.err
}

func (r *itemRun) run(ctx context.Context) itemOutcome {
	r.hr.stats.Tasks++
	r.hr.exec.warm.itemStarted()
	defer func() {
		if r.restore != nil {
			r.restore()
		}
	}()
	steps := []func(context.Context) (itemOutcome, bool){r.build, r.plan, r.expect, r.predict, r.apply}
	for _, step := range steps {
		if o, done := step(ctx); done {
			if r.e.collecting && errors.Is(o.err, errNotFetched) {
				return itemOutcome{status: StatusOK, result: skippedResult()}
			}
			return o
		}
	}
	return r.finish()
}

func failed(err error) (itemOutcome, bool) { return itemOutcome{err: err}, true }

// build renders the arguments and makes the module and its target.
func (r *itemRun) build(ctx context.Context) (itemOutcome, bool) {
	e, hr, t := r.e, r.hr, r.t
	m, err := e.buildModule(t, r.data)
	if err != nil {
		return failed(err)
	}
	r.m = m
	r.target = &modules.Target{Exec: hr.exec, Facts: hr.facts, Become: hr.host.Conn.Become, State: hr.predicted}
	if t.Become != nil {
		r.target.Become = *t.Become
	}
	r.restore, err = e.retarget(ctx, hr, t, r.data, r.target) // delegate_to, become_user
	if err != nil {
		return failed(err)
	}
	if r.target.Env, err = e.taskEnv(t, r.data); err != nil {
		return failed(err)
	}
	return itemOutcome{}, false
}

// plan reads the host and compares; a plan check mode cannot make ends the
// item as unknown.
func (r *itemRun) plan(ctx context.Context) (itemOutcome, bool) {
	e, hr, t := r.e, r.hr, r.t
	var err error
	if why := e.untracked(hr, t); why != "" {
		err = &hoststate.UnknownError{What: "the " + t.Module + " state it reads", Because: why}
	} else {
		r.ch, err = r.m.Plan(ctx, r.target)
	}
	var unknown *hoststate.UnknownError
	if errors.As(err, &unknown) {
		return r.unknown(ctx, err), true
	}
	if err != nil {
		return failed(err)
	}
	if r.ch.Facts != nil {
		e.setFacts(hr, r.ch.Facts)
	}
	r.planned = changeHash(r.ch.Summary, r.ch.Diff)
	return itemOutcome{}, false
}

// unknown reports an item whose plan is unknown: what it may write, and
// the host, become unknown to the tasks after it.
func (r *itemRun) unknown(ctx context.Context, err error) itemOutcome {
	e, hr, t := r.e, r.hr, r.t
	e.markWrites(ctx, hr, r.m, fmt.Sprintf("unknown task %q may write it", t.Name))
	hr.predicted.State.MarkChanged(fmt.Sprintf("unknown task %q may change the host", t.Name))
	because := fmt.Sprintf("it comes from task %q, which is unknown", t.Name)
	hr.stats.Unknown++
	ev := r.event(StatusUnknown)
	ev.Message = err.Error()
	if t.NoLog {
		ev.Item = ""
	}
	e.taskEvent(hr, ev, "")
	return itemOutcome{status: StatusUnknown, result: unknownResult(because, hoststate.Value{Because: because})}
}

// expect asks a saved plan whether this step is the one it was reviewed for.
func (r *itemRun) expect(context.Context) (itemOutcome, bool) {
	e := r.e
	if e.opts.Expect == nil || e.opts.Check {
		return itemOutcome{}, false
	}
	if err := e.expect(r.hr, r.t, r.kind, r.item, r.ch.Changed, r.planned); err != nil {
		return failed(err)
	}
	return itemOutcome{}, false
}

// predict, in check mode, records a planned change in the host's predicted
// state (and runs a read-only command).
func (r *itemRun) predict(ctx context.Context) (itemOutcome, bool) {
	e, hr, t := r.e, r.hr, r.t
	if !r.ch.Changed || !e.opts.Check {
		return itemOutcome{}, false
	}
	result, err := e.predict(ctx, hr, t, r.m, r.target, &r.ch)
	r.result = result
	if err != nil {
		if r.ch.Output == nil || !judgesResult(t) {
			return failed(err)
		}
		r.moduleErr = err // a read-only command failed: failed_when decides
	}
	if why, unread := result["unread"].(string); unread {
		// A read-only command that cannot run against the host the
		// real run meets: its itemOutcome, failure included, is unknown.
		delete(result, "unread")
		hr.stats.Unknown++
		ev := r.event(StatusUnknown)
		ev.Message = why
		e.taskEvent(hr, ev, "")
		return itemOutcome{status: StatusUnknown, result: result}, true
	}
	return itemOutcome{}, false
}

// apply, in a real run, takes the host out of rotation before its first
// change, then applies (and verifies) the planned change.
func (r *itemRun) apply(ctx context.Context) (itemOutcome, bool) {
	e, t := r.e, r.t
	if !r.ch.Changed || e.opts.Check {
		return itemOutcome{}, false
	}
	// A task declared changed_when: false (a check) changes nothing by
	// contract, so it does not take the host out of rotation.
	if t.ChangedWhen == nil || *t.ChangedWhen {
		if err := e.beforeChange(ctx, r.hr); err != nil {
			return failed(err)
		}
	}
	planned := r.ch
	ch, err := r.m.Apply(ctx, r.target, planned)
	switch {
	case err != nil && ch.Output != nil:
		// A command failed: its result is registered, and
		// failed_when or until may still accept it.
		r.moduleErr = err
	case err != nil && !e.changedDespite(ctx, r.m, r.target, err):
		return failed(err)
	case err != nil:
		ch = planned // in place: report it, and notify (handlers.go)
	}
	ch.Changed = true
	if len(ch.Summary) == 0 {
		ch.Summary = planned.Summary
	}
	if ch.Diff == "" {
		ch.Diff = planned.Diff
	}
	r.ch = ch
	return itemOutcome{}, false
}

// finish merges the result, judges it (failed_when), counts and reports it.
func (r *itemRun) finish() itemOutcome {
	e, hr, t, ch := r.e, r.hr, r.t, r.ch
	changed := ch.Changed
	if t.ChangedWhen != nil {
		changed = *t.ChangedWhen
	}
	result := r.result
	if result == nil {
		result = map[string]any{"changed": changed, "failed": false, "skipped": false, "rc": 0, "stdout": "", "stderr": ""}
		if ch.Output != nil {
			result["rc"] = ch.Output.ExitCode
			result["stdout"] = string(ch.Output.Stdout)
			result["stderr"] = string(ch.Output.Stderr)
		}
	} else {
		result["changed"] = changed
	}
	maps.Copy(result, ch.Result)
	if err := e.judge(t, r.data, result, r.moduleErr); err != nil {
		return itemOutcome{result: result, err: err}
	}
	status := StatusOK
	if changed {
		status = StatusChanged
		hr.stats.Changed++
	} else {
		hr.stats.OK++
	}
	ev := r.event(status)
	if changed {
		ev.Summary = ch.Summary
		if e.opts.Diff {
			ev.Diff = ch.Diff
		}
	}
	ev.Message = ch.Message // debug's
	if t.NoLog {
		ev.Item, ev.Diff, ev.Message = "", "", ""
		if changed {
			ev.Summary = []string{"(details hidden: no_log)"}
		}
	}
	e.taskEvent(hr, ev, r.planned)
	return itemOutcome{status: status, result: result}
}

// event is the item's event with status, its time and round trips so far.
func (r *itemRun) event(status Status) Event {
	return Event{Kind: r.kind, Host: r.hr.host.Name, Role: r.t.Role.Name, Task: r.t.Name, Item: r.item, Status: status,
		Duration: time.Since(r.start), RoundTrips: int(r.hr.exec.calls.Load() - r.calls)}
}
