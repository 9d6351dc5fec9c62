package runner

import (
	"context"
	"maps"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// Plan first: before a real run changes anything, every host's whole run
// (all its plays, in order) is planned, all hosts at once and whatever the
// group order, serial batches and drains: check mode against the host
// itself, which reads and compares and changes nothing. A host whose plan
// is empty (every task ok or skipped, no handler due, no drain of an
// earlier run to undo) is settled: in its turn its planned events are
// reported as they were, with no round trip, no drain and no wait. The
// other hosts run in their turn exactly as without this step, every task
// read again right before it changes anything. A no-op run thus costs the
// slowest host, not the sum of the groups.
//
// A host ferry has never deployed (no statedir.DeployedFile) is not planned
// first: its first deploy changes it almost surely, and its plan would read
// every task of a host that is not set up yet — twice the reads of a
// converge, and checks that wait for services not installed yet (the seed
// stack's converge took 8 s longer with them).

// planFirst plans every reachable host and marks the settled ones.
func (e *Engine) planFirst(ctx context.Context, plays []Play) {
	if e.opts.Check || e.opts.Steps != nil || e.opts.Expect != nil {
		return // check mode is the plan; saved plans record every step as it runs
	}
	e.mu.Lock()
	hosts := make([]*hostRun, 0, len(e.hosts))
	for _, hr := range e.hosts {
		if hr.exec != nil && !hr.stats.Unreachable {
			hosts = append(hosts, hr)
		}
	}
	e.mu.Unlock()
	var g errgroup.Group
	g.SetLimit(e.opts.Forks)
	for _, hr := range hosts {
		g.Go(func() error {
			hr.settled = e.planHost(ctx, plays, hr)
			e.watchStep(hr.host.Name, "") // planned: off the status area until its play
			return nil
		})
	}
	_ = g.Wait()
}

// releaseSettled lets the settled hosts go while the plays run, when no
// later step can reach them: their turns only report the plan, so their
// run lock would keep another run waiting for nothing, and their
// connection would hold memory here and an sshd, a shell and the lock's
// command there until the run ends. Hosts of a drain's Through group stay
// (the drains run on them). A host let go that a task is then delegated
// to is connected and locked again (outside.go).
func (e *Engine) releaseSettled(plays []Play) {
	keep := map[string]bool{}
	for _, p := range plays {
		if p.Drain != nil && p.Drain.Through != "" {
			for _, h := range e.inv.HostsOf(p.Drain.Through) {
				keep[h.Name] = true
			}
		}
	}
	e.mu.Lock()
	var done []*hostRun
	for name, hr := range e.hosts {
		if hr.settled != nil && !keep[name] {
			done = append(done, hr)
		}
	}
	e.mu.Unlock()
	if len(done) == 0 {
		return
	}
	e.releasing.Add(1)
	go func() {
		defer e.releasing.Done()
		e.letAllGo(done)
	}()
}

// settledRun is what the plan of a settled host found, to be reported in
// its turn.
type settledRun struct {
	events     map[string][]Event // by play
	stats      HostStats
	registered map[string]any
}

// planHost plans hr's plays in check mode and returns what it found when
// the plan is empty, nil when the host has something to change, or may
// have (unknown, failed, an earlier drain or handler pending). Planning
// stops at the first sign of a change: the host runs in its turn anyway.
func (e *Engine) planHost(ctx context.Context, plays []Play, hr *hostRun) *settledRun {
	if !hr.left.Deployed || len(hr.left.PendingHandlers) > 0 || len(hr.left.DrainedPlays) > 0 {
		return nil
	}
	for _, p := range plays {
		if hasHost(p, hr.host.Name) && tiedToOthers(p) {
			return nil // run_once and delegate_to tie the host to others
		}
	}
	px := newPrefetch(hr.exec)
	if px == nil {
		settled, _ := e.planPass(ctx, plays, hr, hr.exec, false)
		return settled
	}
	x := &countingExecutor{Executor: px}
	for pass := 0; ; pass++ {
		collect := pass < maxCollectPasses
		px.pass(collect)
		settled, served := e.planPass(ctx, plays, hr, x, collect)
		if px.complete() || ctx.Err() != nil {
			if settled != nil {
				settled.batched()
			} else if px.complete() {
				hr.exec.warm = newWarmReads(px.answers, served)
			}
			return settled
		}
		if err := px.fetch(ctx); err != nil {
			return nil // the host runs in its turn, and meets the error there
		}
	}
}

// planPass plans hr's plays once, reading the host through x; collecting,
// a read x has no answer for ends its task as if it had nothing to do.
// For a host with something to do, served counts the items planned ok or
// skipped before the one that was not (warm.go).
func (e *Engine) planPass(ctx context.Context, plays []Play, hr *hostRun, x *countingExecutor, collecting bool) (settled *settledRun, served int) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rep := &planReport{cancel: cancel, events: map[string][]Event{}}
	if w, ok := e.opts.Report.(Watcher); ok {
		rep.watch = w
	}
	opts := e.opts
	opts.Check, opts.Report = true, rep
	pe := &Engine{inv: e.inv, opts: opts, start: e.start, runID: e.runID, collecting: collecting}
	ph := &hostRun{host: hr.host, exec: x, facts: maps.Clone(hr.facts), left: hr.left,
		registered: map[string]any{}, stateDir: hr.stateDir, stepKeys: map[string]int{}, firstNotOK: -1,
		predicted: hoststate.NewOverlay(hoststate.New(), x)}
	pe.hosts = map[string]*hostRun{hr.host.Name: ph}
	for _, p := range plays {
		if !hasHost(p, hr.host.Name) {
			continue
		}
		rep.setPlay(p.Group)
		ok := pe.runHostPlay(ctx, p, ph, p.defaults())
		if !ok || rep.stopped() || ctx.Err() != nil {
			// The first item not ok or skipped is not served, nor is
			// anything after it; without one (the plan stopped between
			// items), neither is the last item begun.
			if ph.firstNotOK >= 0 {
				return nil, ph.firstNotOK
			}
			return nil, max(ph.stats.Tasks-1, 0)
		}
	}
	st := ph.stats
	if st.Changed+st.Failed+st.Unknown+st.Ignored+st.Rescued > 0 || st.Unreachable || ph.uncertain > 0 {
		return nil, 0
	}
	return &settledRun{events: rep.events, stats: st, registered: ph.registered}, 0
}

// batched zeroes the round trips of the events: their reads came in the
// host's batches, which the recap counts.
func (s *settledRun) batched() {
	for _, evs := range s.events {
		for i := range evs {
			evs[i].RoundTrips = 0
		}
	}
}

// runSettled reports, in the host's turn, what its plan found for play p.
func (e *Engine) runSettled(p Play, hr *hostRun) bool {
	e.adoptSettled(hr)
	for _, ev := range hr.settled.events[p.Group] {
		e.opts.Report.Event(ev)
	}
	return true
}

// adoptSettled makes a settled host's planned counts its own, once.
func (e *Engine) adoptSettled(hr *hostRun) {
	if hr.settled == nil || hr.stats.Tasks > 0 {
		return
	}
	st := hr.settled.stats
	st.RoundTrips = 0 // counted on the executor (recap)
	hr.stats = st
	maps.Copy(hr.registered, hr.settled.registered)
}

func hasHost(p Play, name string) bool {
	for _, h := range p.Hosts {
		if h.Name == name {
			return true
		}
	}
	return false
}

// tiedToOthers reports whether a task or handler of p has run_once (the
// hosts of a batch share it) or delegate_to (it reads and changes another
// host): such a host runs in its turn.
func tiedToOthers(p Play) bool {
	tied := func(t *roles.Task) bool { return t.RunOnce || t.DelegateTo != "" }
	for _, r := range append(slices.Clone(p.Roles), p.Included...) {
		for _, list := range [][]*roles.Task{r.Tasks, r.Handlers} {
			if slices.ContainsFunc(roles.Flatten(list), tied) {
				return true
			}
		}
	}
	return false
}

// planReport keeps a planned host's events by play, and stops the plan at
// the first event that is not ok or skipped.
type planReport struct {
	cancel context.CancelFunc
	watch  Watcher

	mu     sync.Mutex
	play   string
	events map[string][]Event
	stop   bool
}

func (r *planReport) setPlay(play string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.play = play
}

func (r *planReport) stopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stop
}

func (r *planReport) Event(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev.Status {
	case StatusOK, StatusSkipped:
		r.events[r.play] = append(r.events[r.play], ev)
	default:
		r.stop = true
		r.cancel()
	}
}

func (r *planReport) Recap(Recap) {}

// HostStep shows the planning host's step in the status area.
func (r *planReport) HostStep(host, step string) {
	if r.watch != nil {
		r.watch.HostStep(host, step)
	}
}

// HostFinished is heard in the host's turn, from the real run.
func (r *planReport) HostFinished(play, host string) {}
