package runner

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/modules"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

// Handlers notified by a change are recorded on the host before they run,
// and forgotten only once they ran: a run interrupted in between (Ctrl-C, a
// lost connection, a later task failing hard) leaves them pending, and the
// next run — which finds the file already right and so notifies nothing —
// still reloads the service. The record lives in the host's ferry state
// folder (runner/statedir) and comes back with the facts, in the same
// round trip.

// handlerState is one host's notified handlers during one play.
type handlerState struct {
	play     string
	notified map[string]bool
	// recorded handlers are on the host's pending list.
	recorded map[string]bool
	// maybe holds, in check mode, handlers notified by a task whose change
	// is unknown, with that task's name.
	maybe map[string]string
}

// maybeNotify records handlers that a task check mode cannot predict may
// notify: they are reported unknown unless a known change notifies them.
func (hs *handlerState) maybeNotify(names []string, task string) {
	if hs.maybe == nil {
		hs.maybe = map[string]string{}
	}
	for _, n := range names {
		if _, dup := hs.maybe[n]; !dup {
			hs.maybe[n] = task
		}
	}
}

func newHandlerState(play string, hr *hostRun) *handlerState {
	hs := &handlerState{play: play, notified: map[string]bool{}, recorded: map[string]bool{}}
	for _, name := range hr.left.Pending(play) {
		hs.notified[name] = true
		hs.recorded[name] = true
	}
	return hs
}

func (hr *hostRun) pendingFile(play string) string {
	return statedir.PendingFile(hr.stateDir, play)
}

// afterErrorTimeout bounds the round trips made after a step failed or was
// interrupted: checking whether its change is in place, and recording the
// handlers it notifies.
const afterErrorTimeout = 15 * time.Second

// changedDespite tells whether a step whose Apply failed (or was
// interrupted after the rename, say) nevertheless left the host in the
// planned state: the module plans again and finds nothing to do. Such a
// change must count, and notify, or the next run — finding the host right —
// would never run the handlers. A rejected candidate changed nothing.
func (e *Engine) changedDespite(ctx context.Context, m modules.Module, t *modules.Target, err error) bool {
	var ve *executor.ValidationError
	if errors.As(err, &ve) || errors.Is(err, executor.ErrUnreachable) {
		return false
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterErrorTimeout)
	defer cancel()
	again, perr := m.Plan(cctx, t)
	return perr == nil && !again.Changed
}

// notify marks handlers to run at the end of the play and, outside check
// mode, records the new ones on the host first.
func (e *Engine) notify(ctx context.Context, hr *hostRun, hs *handlerState, names []string) error {
	var fresh []string
	for _, n := range names {
		hs.notified[n] = true
		if !hs.recorded[n] {
			fresh = append(fresh, n)
		}
	}
	if len(fresh) == 0 || e.opts.Check {
		return nil
	}
	file := hr.pendingFile(hs.play)
	script := fmt.Sprintf("mkdir -p %s && chmod 0700 %s && printf '%%s\\n' %s >> %s",
		shq(path.Dir(file)), shq(path.Dir(file)), quoteAll(fresh), shq(file))
	// Recorded even when the run was just interrupted: the change is made.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterErrorTimeout)
	defer cancel()
	res, err := hr.exec.Run(rctx, executor.Command{Script: script, Become: hr.host.Conn.Become})
	if err != nil {
		return fmt.Errorf("record pending handlers: %w", err)
	}
	if !res.OK() {
		return fmt.Errorf("record pending handlers in %s: %s", file, strings.TrimSpace(string(res.Stderr)))
	}
	for _, n := range fresh {
		hs.recorded[n] = true
	}
	return nil
}

// forget removes the host's pending list once every handler ran.
func (e *Engine) forget(ctx context.Context, hr *hostRun, hs *handlerState) {
	if len(hs.recorded) == 0 || e.opts.Check {
		return
	}
	res, err := hr.exec.Run(ctx, executor.Command{Script: "rm -f " + shq(hr.pendingFile(hs.play)), Become: hr.host.Conn.Become})
	if err == nil && res.OK() {
		clear(hs.recorded)
	}
}

// flushHandlers runs the notified handlers of a play's roles, each once, in
// the order the roles declare them, and forgets the pending list when all
// of them succeeded.
func (e *Engine) flushHandlers(ctx context.Context, p Play, hr *hostRun, vars map[string]any, hs *handlerState) {
	allRan := true
	// A handler runs when notified by name or by one of its listen
	// topics; decided for all first, as several may share a topic.
	due, maybe := map[*roles.Task]bool{}, map[*roles.Task]string{}
	for _, r := range p.handlerRoles() {
		for _, h := range r.Handlers {
			for _, n := range append([]string{h.Name}, h.Listen...) {
				due[h] = due[h] || hs.notified[n]
				if why, ok := hs.maybe[n]; ok && maybe[h] == "" {
					maybe[h] = why
				}
			}
		}
	}
	for _, r := range p.handlerRoles() {
		for _, h := range r.Handlers {
			for _, n := range append([]string{h.Name}, h.Listen...) {
				delete(hs.maybe, n)
				if due[h] && ctx.Err() == nil && !hr.stats.Unreachable {
					delete(hs.notified, n)
				}
			}
			if !due[h] {
				if why := maybe[h]; why != "" {
					hr.stats.Unknown++
					e.taskEvent(hr, Event{Kind: "handler", Host: hr.host.Name, Role: h.Role.Name, Task: h.Name, Status: StatusUnknown,
						Message: fmt.Sprintf("notified only if unknown task %q changes something", why)}, "")
				}
				continue
			}
			if ctx.Err() != nil || hr.stats.Unreachable {
				allRan = false
				continue
			}
			if _, fatal := e.runTask(ctx, hr, h, vars, &handlerState{play: hs.play, notified: map[string]bool{}, recorded: map[string]bool{}}); fatal {
				hr.failed = true
				allRan = false
			}
		}
	}
	if allRan && ctx.Err() == nil {
		e.forget(ctx, hr, hs)
	}
}
