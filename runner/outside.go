package runner

import (
	"context"
	"fmt"
	"sync"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

// Hosts outside the run's plays: a host a task is delegated to that no
// play of the run selected (delegate_to, or the controller for
// delegate_to: localhost) and a load balancer the hosts of a play drain
// through (drain: through:). Such a host is connected, through
// Options.Connect like every host, the first time a host of the run needs
// it, and is then kept with the run's hosts, which closes (and unlocks)
// it with them. A host of the plays let go early (settled, planfirst.go)
// is opened again the same way when a task is delegated to it. The hosts
// of one batch need it at the same time: one lock makes finding and
// opening it one step, so that it is connected once and no connection is
// lost.

// outsideUse says what a host outside the plays is opened for.
type outsideUse int

const (
	// asBalancer: the drain scripts run on it; a connection is all it
	// needs. It is not locked: runs deploying other groups go through the
	// same balancers.
	asBalancer outsideUse = iota
	// asDelegate: tasks run on it. In a real run it is locked against
	// other runs (but the controller, which runs ferry); its facts are
	// read; in check mode its state is predicted.
	asDelegate
)

// outsideHosts is what a run knows of the hosts it opened outside its
// plays; their runs are in Engine.hosts.
type outsideHosts struct {
	mu sync.Mutex
	// delegates is what opening each delegate found the first time, the
	// host or why it cannot take tasks: every host that delegates to it
	// meets the same, with no second dial or lock wait.
	delegates map[string]openedHost
}

type openedHost struct {
	hr  *hostRun
	err error
}

// outsideHost returns the run of h, which a host of the run needs as use
// says: h's own run when h is one of the run's hosts, else h connected on
// first use (and, for a delegate, made ready for tasks).
func (e *Engine) outsideHost(ctx context.Context, h *inventory.Host, use outsideUse) (*hostRun, error) {
	o := &e.outside
	o.mu.Lock()
	defer o.mu.Unlock()
	if use == asBalancer {
		return e.connectOutside(ctx, h)
	}
	if found, ok := o.delegates[h.Name]; ok {
		return found.hr, found.err
	}
	hr, err := e.openDelegate(ctx, h)
	if o.delegates == nil {
		o.delegates = map[string]openedHost{}
	}
	o.delegates[h.Name] = openedHost{hr, err}
	return hr, err
}

// connectOutside finds h among the run's hosts, or connects it and adds
// it to them as a bare connection (a balancer's). outside.mu is held.
func (e *Engine) connectOutside(ctx context.Context, h *inventory.Host) (*hostRun, error) {
	if hr := e.hostRun(h.Name); hr != nil {
		return hr, nil
	}
	x, err := e.opts.Connect(ctx, h)
	if err != nil {
		return nil, err
	}
	hr := e.outsideRun(h, x)
	e.addHost(hr)
	return hr, nil
}

// openDelegate returns h ready for tasks: one of the run's hosts as it
// is, a balancer's connection readied, or h connected and readied. A
// fresh connection that cannot be readied is closed and not kept.
// outside.mu is held.
func (e *Engine) openDelegate(ctx context.Context, h *inventory.Host) (*hostRun, error) {
	e.releasing.Wait() // a settled host being let go is closed first
	hr := e.hostRun(h.Name)
	switch {
	case hr == nil:
		x, err := e.opts.Connect(ctx, h)
		if err != nil {
			return nil, err
		}
		hr = e.outsideRun(h, x)
		if err := e.readyForTasks(ctx, hr); err != nil {
			x.Close()
			return nil, err
		}
		e.addHost(hr)
	case hr.bare:
		if err := e.readyForTasks(ctx, hr); err != nil {
			return nil, err
		}
	case hr.exec == nil || hr.stats.Unreachable:
		return nil, fmt.Errorf("%w: it was not reachable when the run began", executor.ErrUnreachable)
	case hr.closed:
		if err := e.reopen(ctx, hr); err != nil {
			return nil, err
		}
	}
	return hr, nil
}

// reopen connects and locks again a settled host that was let go early
// (planfirst.go), for the tasks delegated to it. Its connection is
// swapped inside the counting executor, so that the recap counts its
// round trips across both. In the meantime another run may have taken its
// lock: the delegated task then fails, naming that run. outside.mu is held.
func (e *Engine) reopen(ctx context.Context, hr *hostRun) error {
	x, err := e.opts.Connect(ctx, hr.host)
	if err != nil {
		return err
	}
	hr.exec.Executor, hr.closed = x, false
	if err := e.readyForTasks(ctx, hr); err != nil {
		x.Close()
		hr.closed = true
		return err
	}
	return nil
}

// outsideRun is the run of h, connected through x outside the plays: a
// bare connection until readyForTasks. The controller keeps no state
// folder of the hosts' ferry_state_dir.
func (e *Engine) outsideRun(h *inventory.Host, x executor.Executor) *hostRun {
	hr := e.newHostRun(h)
	if e.isController(h) {
		hr.stateDir = statedir.Default
	}
	hr.exec = &countingExecutor{Executor: x}
	hr.bare = true
	return hr
}

// readyForTasks makes a bare outside host one that tasks run on: locked
// (in a real run, but the controller), its prediction started (in check
// mode) and its facts read. On failure it is left bare and unlocked.
func (e *Engine) readyForTasks(ctx context.Context, hr *hostRun) error {
	if err := e.lockAndGather(ctx, hr, !e.opts.Check && !e.isController(hr.host)); err != nil {
		return err
	}
	if e.opts.Check {
		hr.predicted = hoststate.NewOverlay(hoststate.New(), hr.exec)
	}
	hr.bare = false
	return nil
}
