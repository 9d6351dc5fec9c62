package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-deploy/ferry/internal/suggest"
	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/modules"
)

// delegate_to runs a task on another host, as Ansible does: its templates
// read the original host's variables and facts, the module runs over the
// delegate's connection (opened through Options.Connect, so host keys are
// verified as for every host) and with the delegate's facts (its package
// manager, its init system), and the result is registered, reported and
// notifies handlers on the original host. In check mode the delegate's
// predicted state is the one read and written, so what a delegated task
// plans is what the real run changes there.

// controllerName is the delegate_to value that means the controller.
const controllerName = "localhost"

// delegateName renders a task's delegate_to for one host; "" when the
// task runs on the host itself.
func (e *Engine) delegateName(t *roles.Task, data map[string]any) (string, error) {
	if t.DelegateTo == "" {
		return "", nil
	}
	name, err := e.opts.Render.Render(taskName(t)+" delegate_to", t.DelegateTo, data)
	if err != nil {
		return "", err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("%s: delegate_to %q renders to nothing", taskName(t), t.DelegateTo)
	}
	if name != controllerName && e.inv.Host(name) == nil {
		return "", fmt.Errorf("%s: delegate_to %q: no host %q in the inventory (name a host, or localhost for the controller)%s",
			taskName(t), t.DelegateTo, name, suggestHost(e.inv, name))
	}
	return name, nil
}

func suggestHost(inv *inventory.Inventory, name string) string {
	names := make([]string, 0, len(inv.Hosts))
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	if s := suggest.Closest(name, names); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// delegate returns the run of the host a task is delegated to, opening
// it (outside.go) the first time a host of the run needs it; nil when the
// task runs on hr itself.
func (e *Engine) delegate(ctx context.Context, hr *hostRun, t *roles.Task, data map[string]any) (*hostRun, error) {
	name, err := e.delegateName(t, data)
	if err != nil || name == "" || name == hr.host.Name {
		return nil, err
	}
	h := e.inv.Host(name)
	if h == nil { // delegate_to: localhost without such a host
		h = &inventory.Host{Name: controllerName, Address: "localhost"}
	}
	dr, err := e.outsideHost(ctx, h, asDelegate)
	if err != nil {
		return nil, fmt.Errorf("%s: delegate_to %s: %w", taskName(t), name, err)
	}
	return dr, nil
}

// isController says whether h is the controller of delegate_to: localhost
// (no inventory host of that name).
func (e *Engine) isController(h *inventory.Host) bool { return e.inv.Host(h.Name) == nil }

// retarget points one item of task t, on hr, at where and as whom it runs:
// the delegate's connection, facts, predicted state and become setting
// (delegate_to), and become_user. hr's connection and prediction stand in
// for the delegate's until the returned restore is called, so that what
// the item reads and writes in check mode is the delegate's; the calls it
// costs are counted on hr.
func (e *Engine) retarget(ctx context.Context, hr *hostRun, t *roles.Task, data map[string]any, target *modules.Target) (restore func(), err error) {
	restore = func() {}
	dr, err := e.delegate(ctx, hr, t, data)
	if err != nil {
		return restore, err
	}
	if dr != nil {
		exec, facts, predicted := hr.exec, hr.facts, hr.predicted
		dx := &countingExecutor{Executor: dr.exec.Executor}
		start := exec.calls.Load()
		dx.calls.Store(start)
		dx.reads.on = exec.reads.on
		hr.exec, hr.facts, hr.predicted = dx, dr.facts, dr.predicted
		if dr.predicted != nil {
			hr.predicted = hoststate.NewOverlay(dr.predicted.State, dx)
		}
		restore = func() {
			exec.calls.Add(dx.calls.Load() - start)
			hr.exec, hr.facts, hr.predicted = exec, facts, predicted
		}
		target.Exec, target.Facts, target.State = hr.exec, hr.facts, hr.predicted
		if t.Become == nil {
			target.Become = dr.host.Conn.Become
		}
	}
	user, err := e.becomeUser(t, hr.host.Conn.BecomeUser, data)
	if err != nil || user == "" || !target.Become {
		return restore, err
	}
	as := asUser(target.Exec, user)
	target.Exec = as
	if target.State != nil {
		target.State = hoststate.NewOverlay(target.State.State, as)
	}
	return restore, nil
}
