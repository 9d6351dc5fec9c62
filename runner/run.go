// Package runner is ferry's task engine: it connects to every host once,
// reads facts, and runs the plays of a deploy — for each task read, compare,
// (in check mode: report and stop), apply, verify, notify — in parallel
// across hosts and in order within a host.
package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

// Renderer renders the templates in task arguments on the controller.
type Renderer interface {
	Render(name, text string, data map[string]any) (string, error)
	RenderValue(name string, v any, data map[string]any) (any, error)
	Eval(name, expr string, data map[string]any) (bool, error)
}

// Options configure a run.
type Options struct {
	// Check plans every task and changes nothing.
	Check bool
	// Diff includes file diffs and change summaries in task events.
	Diff bool
	// Forks bounds how many hosts work at once (default 50).
	Forks int
	// Extra vars (-e) override every other variable.
	Extra map[string]any
	// Tags, when set, run only tasks carrying one of them; SkipTags drops tasks.
	Tags, SkipTags []string
	// Connect opens the one connection a host uses for the whole run.
	Connect func(ctx context.Context, h *inventory.Host) (executor.Executor, error)
	// Gather reads a host's facts, and what a previous run left in its
	// state folder (pending handlers, drained plays, the run lock's
	// holder), in one round trip (facts.GatherIn).
	Gather func(ctx context.Context, x executor.Executor, w statedir.Where) (map[string]any, statedir.Left, error)
	// LockTimeout is how long to wait for a host another run holds
	// (hostlock.go); 0 fails at once naming the holder.
	LockTimeout time.Duration
	// Render renders templates; Report receives events.
	Render Renderer
	Report Reporter
	// Steps, when set, receives every task step of every host (saved plans).
	Steps func(host string, s Step)
	// Expect, when set, is asked before a real run changes anything for a
	// step: an error (a *PlanDriftError) stops the host, which is counted
	// as refused.
	Expect func(host string, s Step) error
	// StartAt, when set, passes over every task before the first one of
	// this name (--start-at-task); handlers are not affected.
	StartAt string
	// LoadBalancer drains hosts through their load balancers (drain:
	// through:); a run with such a drain needs one.
	LoadBalancer LoadBalancer
}

// BadInputError is returned when the deploy was stopped before any change
// because of the user's input (a template, a variable, an argument).
type BadInputError struct{ Err error }

func (e *BadInputError) Error() string { return e.Err.Error() }
func (e *BadInputError) Unwrap() error { return e.Err }

// Engine runs plays against an inventory.
type Engine struct {
	inv  *inventory.Inventory
	opts Options
	// hosts grows during the run (hosts outside the plays, outside.go):
	// read and write it under mu, through hostRun and addHost.
	hosts map[string]*hostRun
	mu    sync.Mutex
	// outside opens the hosts outside the plays, one at a time.
	outside outsideHosts
	// collecting: this engine plans a host to learn which reads its tasks
	// make (prefetch.go); a read not fetched yet ends a task quietly.
	collecting bool
	start      startPoint // where --start-at-task begins
	runID      string     // names this run in hosts' run locks (hostlock.go)
	// releasing counts the settled hosts still being let go
	// (releaseSettled); closeAll waits for them.
	releasing sync.WaitGroup
}

// hostRun is one host's state across the whole run.
type hostRun struct {
	host  *inventory.Host
	exec  *countingExecutor
	facts map[string]any
	// left is what an earlier run left in the host's state folder: the
	// engine's own state, kept out of the facts templates see.
	left       statedir.Left
	registered map[string]any
	stats      HostStats
	failed     bool // a task failed: later tasks and plays skip this host
	stateDir   string
	drain      *drainState // armed during a play with drain:
	stepKeys   map[string]int
	// predicted is, in check mode, the host as the tasks planned so far
	// would leave it; modules read the host through it (nil in real runs).
	predicted *hoststate.Overlay
	// startReached is set once the host met Options.StartAt.
	startReached bool
	unlock       func() // releases the run lock (not in check mode)
	closed       bool   // the connection is closed (letGo: early for a settled host; reopen undoes it)
	// held, while set, keeps task events back (until:, taskkeys.go).
	held *[]heldEvent
	// uncertain counts, in check mode, the tasks whose real run may fail
	// where check mode cannot tell (block.go: does a rescue run?).
	uncertain int
	// once is shared by the hosts of the current batch (run_once).
	once *onceSet
	// rolesRun names the roles that ran on the host in this run.
	rolesRun map[string]bool
	// bare marks a host outside the plays opened as a load balancer: a
	// connection, not locked, no facts read, until a task is delegated to
	// it (outside.go). Read and written under Engine.outside.mu.
	bare bool
	// settled, when set, is the empty plan the host was found to have
	// before the plays began (planfirst.go): its turns only report it.
	settled *settledRun
	// firstNotOK is, while planning, the index of the first item whose
	// plan was not ok or skipped (-1: none yet; warm.go).
	firstNotOK int
}

// New prepares an engine for inv.
func New(inv *inventory.Inventory, opts Options) *Engine {
	if opts.Forks <= 0 {
		opts.Forks = 50
	}
	return &Engine{inv: inv, opts: opts, hosts: map[string]*hostRun{}}
}

// Run connects to the hosts of every play, checks that every task renders
// for every host (bad input stops the run before any change, with a
// *BadInputError), then runs the plays in order. It always reports a recap,
// also when ctx is cancelled half-way, and returns it.
func (e *Engine) Run(ctx context.Context, plays []Play) (Recap, error) {
	start := time.Now()
	e.start = findStart(plays, e.opts.StartAt, e.selectedByTags)
	defer e.closeAll()
	if err := e.preflightStatic(plays); err != nil {
		return e.recap(start, ctx), &BadInputError{Err: err}
	}
	e.connectAll(ctx, plays)
	if err := e.preflight(plays); err != nil {
		return e.recap(start, ctx), &BadInputError{Err: err}
	}
	e.planFirst(ctx, plays)
	e.releaseSettled(plays)
	for _, p := range plays {
		if ctx.Err() != nil {
			break
		}
		if stop := e.runPlay(ctx, p); stop != nil {
			e.opts.Report.Event(Event{Kind: "play", Play: p.Group, Status: StatusFailed, Message: stop.Error()})
			break
		}
	}
	rc := e.recap(start, ctx)
	e.opts.Report.Recap(rc)
	return rc, nil
}

// connectAll opens one connection per host and reads its facts, all hosts
// in parallel. An unreachable host is reported and left out of every play.
func (e *Engine) connectAll(ctx context.Context, plays []Play) {
	var all []*inventory.Host
	seen := map[string]bool{}
	for _, p := range plays {
		for _, h := range p.Hosts {
			if !seen[h.Name] {
				seen[h.Name] = true
				all = append(all, h)
			}
		}
	}
	var g errgroup.Group
	g.SetLimit(e.opts.Forks)
	for _, h := range all {
		hr := e.newHostRun(h)
		e.addHost(hr)
		g.Go(func() error {
			e.watchStep(h.Name, "connecting")
			x, err := e.opts.Connect(ctx, h)
			if err == nil {
				hr.exec = &countingExecutor{Executor: x}
				if err = e.lockAndGather(ctx, hr, !e.opts.Check); err != nil {
					x.Close()
					hr.exec = nil
				}
			}
			if err == nil {
				if e.opts.Check {
					hr.predicted = hoststate.NewOverlay(hoststate.New(), hr.exec)
				}
				hr.exec.reads.on = e.opts.Steps != nil || e.opts.Expect != nil
			}
			e.watchStep(h.Name, "") // connected: off the status area until its play
			if err != nil {
				hr.stats.Unreachable = true
				e.opts.Report.Event(Event{Kind: "host", Host: h.Name, Status: StatusUnreachable, Message: err.Error()})
			}
			return nil
		})
	}
	_ = g.Wait()
}

// newHostRun is the run of h before it is connected; its state folder is
// ferry_state_dir where the inventory sets one.
func (e *Engine) newHostRun(h *inventory.Host) *hostRun {
	hr := &hostRun{host: h, registered: map[string]any{}, stateDir: statedir.Default, stepKeys: map[string]int{}}
	if dir, ok := e.inv.VarsFor(h, nil, e.opts.Extra)["ferry_state_dir"].(string); ok && dir != "" {
		hr.stateDir = dir
	}
	return hr
}

// hostRun returns the run state of the named host, nil if it has none.
func (e *Engine) hostRun(name string) *hostRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hosts[name]
}

// addHost adds hr to the run's hosts.
func (e *Engine) addHost(hr *hostRun) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hosts[hr.host.Name] = hr
}

// closeAll lets every host go, --forks at a time: each release waits for
// the lock's command to end on its host.
func (e *Engine) closeAll() {
	e.releasing.Wait()
	e.mu.Lock()
	all := slices.Collect(maps.Values(e.hosts))
	e.mu.Unlock()
	e.letAllGo(all)
}

// letAllGo lets every one of hosts go (hostRun.letGo), --forks at a time.
func (e *Engine) letAllGo(hosts []*hostRun) {
	var g errgroup.Group
	g.SetLimit(e.opts.Forks)
	for _, hr := range hosts {
		g.Go(func() error {
			hr.letGo()
			return nil
		})
	}
	_ = g.Wait()
}

// letGo releases hr's run lock and closes its connection.
func (hr *hostRun) letGo() {
	if hr.unlock != nil {
		hr.unlock()
		hr.unlock = nil
	}
	if hr.exec != nil && !hr.closed {
		_ = hr.exec.Close()
		hr.closed = true
	}
}

// runPlay runs one play batch by batch; it returns an error when the
// rollout must stop (a batch failed more than max_fail_percentage).
func (e *Engine) runPlay(ctx context.Context, p Play) error {
	bs, err := batches(p.Hosts, p.Serial)
	if err != nil {
		return err
	}
	names := make([]string, len(p.Hosts))
	for i, h := range p.Hosts {
		names[i] = h.Name
	}
	e.opts.Report.Event(Event{Kind: "play", Play: p.Group, Hosts: names, Message: roleNames(p)})
	defaults := p.defaults()
	for i, batch := range bs {
		if ctx.Err() != nil {
			return nil
		}
		if len(bs) > 1 {
			e.opts.Report.Event(Event{Kind: "batch", Play: p.Group, Hosts: hostNames(batch), Message: fmt.Sprintf("batch %d/%d", i+1, len(bs))})
		}
		var g errgroup.Group
		g.SetLimit(e.opts.Forks)
		failed := 0
		var mu sync.Mutex
		once := newOnceSet(hostNames(batch)) // run_once tasks of this batch (once.go)
		for _, h := range batch {
			hr := e.hostRun(h.Name)
			hr.once = once
			g.Go(func() error {
				run := e.runHostPlay
				switch {
				case hr.settled != nil:
					run = func(_ context.Context, p Play, hr *hostRun, _ map[string]any) bool { return e.runSettled(p, hr) }
				case p.Drain != nil:
					run = func(ctx context.Context, p Play, hr *hostRun, defaults map[string]any) bool {
						return e.runDrained(ctx, p, p.Drain, hr, defaults)
					}
				}
				ok := run(ctx, p, hr, defaults)
				once.hostEnded(h.Name)
				e.watchFinished(p.Group, h.Name)
				if !ok {
					mu.Lock()
					failed++
					mu.Unlock()
				}
				return nil
			})
		}
		_ = g.Wait()
		if failed*100 > p.MaxFailPercentage*len(batch) && len(bs) > 1 {
			return fmt.Errorf("rollout of %s stopped: %d of %d hosts failed in batch %d (max_fail_percentage %d)",
				p.Group, failed, len(batch), i+1, p.MaxFailPercentage)
		}
	}
	return nil
}

// runHostPlay runs a play's roles and then its notified handlers on one
// host. It reports whether the host came through without failure.
func (e *Engine) runHostPlay(ctx context.Context, p Play, hr *hostRun, defaults map[string]any) bool {
	if hr.stats.Unreachable || hr.failed {
		return !hr.failed && !hr.stats.Unreachable
	}
	vars := e.hostVars(hr, defaults)
	hs := newHandlerState(p.Group, hr)
	for _, r := range p.Roles {
		if p.DependencyOnly[r.Name] && hr.rolesRun[r.Name] && !r.AllowDuplicates {
			continue // a dependency runs once per host per run
		}
		if hr.rolesRun == nil {
			hr.rolesRun = map[string]bool{}
		}
		hr.rolesRun[r.Name] = true
		// Tasks and blocks: block.go.
		switch e.runList(ctx, p, hr, r.Tasks, vars, hs) {
		case listStopped:
			return false
		case listFailed, listLost:
			hr.failed = true
			e.flushHandlers(ctx, p, hr, vars, hs)
			return false
		}
	}
	e.flushHandlers(ctx, p, hr, vars, hs)
	return !hr.failed && !hr.stats.Unreachable
}

func roleNames(p Play) string {
	s := ""
	for i, r := range p.Roles {
		if i > 0 {
			s += ", "
		}
		s += r.Name
	}
	return s
}

func hostNames(hs []*inventory.Host) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Name
	}
	return out
}

func (e *Engine) selectedByTags(tags []string) bool {
	for _, s := range e.opts.SkipTags {
		for _, t := range tags {
			if s == t {
				return false
			}
		}
	}
	if len(e.opts.Tags) == 0 {
		return true
	}
	for _, want := range e.opts.Tags {
		for _, t := range tags {
			if want == t {
				return true
			}
		}
	}
	return false
}

func (e *Engine) recap(start time.Time, ctx context.Context) Recap {
	rc := Recap{Event: "recap", Hosts: map[string]*HostStats{}, Check: e.opts.Check,
		DurationMS: time.Since(start).Milliseconds(), Interrupted: errors.Is(ctx.Err(), context.Canceled)}
	e.mu.Lock()
	defer e.mu.Unlock()
	for name, hr := range e.hosts {
		st := hr.stats
		if hr.exec != nil {
			st.RoundTrips = int(hr.exec.calls.Load())
		}
		rc.Hosts[name] = &st
		rc.Changed += st.Changed
		rc.Failed += st.Failed
		rc.Unknown += st.Unknown
		if st.Refused {
			rc.Refused++
		}
		if st.Unreachable {
			rc.Unreachable++
		}
	}
	return rc
}
