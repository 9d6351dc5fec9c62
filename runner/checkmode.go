package runner

import (
	"context"
	"fmt"
	"maps"
	"path"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/modules"
)

// Check mode's part of the engine: instead of applying a planned change it
// records it in the host's predicted state (runner/hoststate), runs the
// commands that are read-only by their author's word, and reports a task
// it cannot predict as unknown, with the reason (doc/check-mode.md).

// unknownTask reports a task check mode cannot plan because it reads an
// unknown value: what it may write becomes unknown too, and so do the
// handlers it may notify.
func (e *Engine) unknownTask(ctx context.Context, hr *hostRun, kind string, t *roles.Task, data map[string]any, hs *handlerState, why string) {
	hr.stats.Tasks++
	hr.stats.Unknown++
	if dr, err := e.delegate(ctx, hr, t, data); err == nil && dr != nil && dr.predicted != nil {
		// What a delegated task may write is on its delegate.
		own := hr.predicted
		hr.predicted = dr.predicted
		defer func() { hr.predicted = own }()
	}
	st := hr.predicted.State
	because := fmt.Sprintf("unknown task %q may write it", t.Name)
	for _, m := range e.modulesOf(hr, t, data) {
		if m == nil {
			// Where it writes is unknown: so is every path.
			st.MarkUnknown("/", because)
			break
		}
		e.markWrites(ctx, hr, m, because)
	}
	st.MarkChanged(fmt.Sprintf("unknown task %q may change the host", t.Name))
	e.taskEvent(hr, Event{Kind: kind, Host: hr.host.Name, Role: t.Role.Name, Task: t.Name, Status: StatusUnknown, Message: why}, "")
	value := hoststate.Value{Because: fmt.Sprintf("it comes from task %q, which is unknown", t.Name)}
	r := unknownResult(value.Because, value)
	r["skipped"] = value // its when: may be what is unknown
	e.register(hr, t, r)
	if t.Module == "set_fact" {
		// What it sets is unknown to the tasks after it.
		unknown := make(map[string]any, len(t.Args))
		for k := range t.Args {
			unknown[k] = value
		}
		e.setFacts(hr, unknown)
	}
	if hs != nil {
		hs.maybeNotify(t.Notify, t.Name)
	}
}

// modulesOf builds the modules an unknown task would run, one per loop
// item, to learn what it may write; a nil module means that cannot be
// known (its arguments or its loop read unknown values).
func (e *Engine) modulesOf(hr *hostRun, t *roles.Task, data map[string]any) []modules.Module {
	if unknownReads(hr.registered, appendStrings(nil, t.Args)...) != "" {
		return []modules.Module{nil}
	}
	items, looped := []any{nil}, false
	if t.LoopExpr != "" || t.LoopVar != "" || t.LoopItems != nil {
		loopTexts := appendStrings([]string{t.LoopExpr, "{{ ." + t.LoopVar + " }}"}, t.LoopItems)
		its, _, err := e.loopItems(t, data)
		if unknownReads(hr.registered, loopTexts...) != "" || err != nil {
			return []modules.Module{nil}
		}
		items, looped = its, true
	}
	var out []modules.Module
	for _, it := range items {
		d := data
		if looped {
			d = maps.Clone(data)
			d["item"] = it
		}
		m, err := e.buildModule(t, d)
		if err != nil {
			return []modules.Module{nil}
		}
		out = append(out, m)
	}
	return out
}

// markWrites makes the paths a module writes unknown in the prediction.
func (e *Engine) markWrites(ctx context.Context, hr *hostRun, m modules.Module, because string) {
	w, ok := m.(modules.Writer)
	if !ok {
		return
	}
	pm, _ := m.(modules.ParentMaker)
	for _, p := range w.Writes() {
		if pm != nil && pm.MakesParents() {
			// The folders mkdir -p may create: those the host (as
			// predicted) does not have, up to the first one it has.
			for dir := path.Dir(p); dir != "/" && dir != "."; dir = path.Dir(dir) {
				fi, err := hr.predicted.Stat(ctx, dir, hr.host.Conn.Become)
				if err != nil || fi.Exists {
					break // there, or unknown already (and what it holds)
				}
				hr.predicted.State.MarkMaybeFolder(dir, because)
			}
		}
		e.markLinkTargets(ctx, hr, p, because)
		hr.predicted.State.MarkUnknown(p, because)
	}
}

// markLinkTargets makes unknown what a write to p reaches when p is a link
// (as predicted, or on the host): a command writing p writes through it.
func (e *Engine) markLinkTargets(ctx context.Context, hr *hostRun, p, because string) {
	var reached []string
	for range 40 { // the kernel's limit of links followed
		fi, err := hr.predicted.Stat(ctx, p, hr.host.Conn.Become)
		if err != nil || !fi.IsLink {
			break // not a link, or unknown already
		}
		to := fi.LinkTo
		if !path.IsAbs(to) {
			to = path.Join(path.Dir(p), to)
		}
		p = path.Clean(to)
		reached = append(reached, p)
	}
	// Marked once the whole chain is read: an unknown path reads as such.
	for _, p := range reached {
		hr.predicted.State.MarkUnknown(p, because)
	}
}

// readOnly reports whether a task runs for real in check mode: a command
// declared changed_when: false, or check_mode: run, reads the host and
// changes nothing, by its author's word.
func readOnly(t *roles.Task) bool {
	return t.CheckModeRun || t.ChangedWhen != nil && !*t.ChangedWhen
}

func isCommand(t *roles.Task) bool { return t.Module == "command" || t.Module == "shell" }

// predict is check mode's stand-in for Apply: the planned change becomes
// the predicted state later tasks read, a read-only command runs for real,
// and a command that would run registers an unknown result (returned; nil
// when the result is known).
func (e *Engine) predict(ctx context.Context, hr *hostRun, t *roles.Task, m modules.Module, target *modules.Target, ch *modules.Change) (map[string]any, error) {
	st := hr.predicted.State
	switch {
	case isCommand(t) && readOnly(t):
		if why := st.Changed(); why != "" {
			// It would read a host the run has changed by then.
			because := fmt.Sprintf("it comes from task %q, which check mode does not run after a change", t.Name)
			r := unknownResult(because, hoststate.Value{Because: because})
			r["unread"] = fmt.Sprintf("not run in check mode: it may read what changes before it (%s)", why)
			return r, nil
		}
		out, err := m.Apply(ctx, target, *ch)
		if err != nil {
			ch.Output = out.Output // for failed_when and until
			return nil, err
		}
		ch.Output = out.Output
		return nil, nil
	case isCommand(t):
		hr.uncertain++ // whether it fails is unknown (block.go)
		e.markWrites(ctx, hr, m, fmt.Sprintf("the command of task %q, which runs only in the real run, may write it", t.Name))
		st.MarkChanged(fmt.Sprintf("task %q runs a command", t.Name))
		return unknownResult(fmt.Sprintf("it comes from task %q, whose command runs only in the real run", t.Name), true), nil
	case ch.Predict != nil:
		ch.Predict(st)
	default:
		because := fmt.Sprintf("task %q changes %s state", t.Name, t.Module)
		st.MarkChanged(because)
		st.Touch(trackedKind(t.Module), because)
	}
	return nil, nil
}

// trackedKind groups the modules whose state check mode does not predict
// by what they read; "" for modules it predicts (files, packages) and for
// commands.
func trackedKind(module string) string {
	switch module {
	case "copy", "template", "line", "file", "command", "shell", "package", "service", "sysctl", "group", "user", "ufw", "mysql_user", modules.FlushHandlers:
		return ""
	case "cron": // a file, written by copy
		return ""
	case "get_url", "unarchive", "apt_repository", "systemd_unit":
		return "" // files, and the unit's state, which they predict
	case "fail", "assert", "debug", "set_fact", "stat", "wait_for":
		return "" // nothing, or files (stat) that check mode predicts
	case "mysql_query", "mysql_replica":
		return modules.MySQLKind
	}
	return module
}

// untracked says why check mode cannot plan a task of a module whose state
// it does not predict: an earlier task changes that kind of state, or
// installs or removes packages, which may bring what the task reads (a
// service, a firewall, a database).
func (e *Engine) untracked(hr *hostRun, t *roles.Task) string {
	kind := trackedKind(t.Module)
	if hr.predicted == nil || kind == "" {
		return ""
	}
	st := hr.predicted.State
	if why := st.Touched(kind); why != "" {
		return why + ", which check mode does not predict"
	}
	if why := st.Touched(hoststate.Packages); why != "" {
		return why + ", which may change what this task reads"
	}
	return ""
}
