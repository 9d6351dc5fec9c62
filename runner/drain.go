package runner

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

// Rolling changes behind a load balancer: before a host's first change it
// is set to drain on every load balancer and ferry waits for its
// connections to finish; once changed it is checked through its health URL
// from each load balancer, and only then set ready again. A host that
// fails stays out of rotation. The balancer's own commands come from a
// LoadBalancer.

// balancers returns the run of every host of the drain's Through group,
// opening those that are not part of this run's plays (outside.go).
func (e *Engine) balancers(ctx context.Context, d *inventory.Drain) ([]*hostRun, error) {
	var out []*hostRun
	for _, h := range e.inv.HostsOf(d.Through) {
		hr, err := e.outsideHost(ctx, h, asBalancer)
		if err != nil {
			return nil, fmt.Errorf("load balancer %s: %w", h.Name, err)
		}
		if hr.exec == nil {
			return nil, fmt.Errorf("load balancer %s is unreachable", h.Name)
		}
		out = append(out, hr)
	}
	return out, nil
}

// LoadBalancer takes a server out of a load balancer's rotation and puts
// it back. The engine runs its scripts on every host of the drain's
// Through group, one round trip each, as the connection's become user;
// what they say to the balancer is the implementation's business (HAProxy's
// runtime API: roles/support.HAProxy, which cmd/ferry gives the engine).
type LoadBalancer interface {
	// DrainScript takes server out of rotation in d.Backend and waits on
	// the balancer, up to d.Timeout, until no session is left on it. It
	// exits 0 on a balancer that serves nothing yet (a first deploy) or
	// does not know the server.
	DrainScript(d *inventory.Drain, server string) string
	// ReadyScript waits, up to d.Timeout, until url answers from the
	// balancer, then puts server back in rotation.
	ReadyScript(d *inventory.Drain, server, url string) string
}

// onBalancers runs script on every balancer; the first failure is returned.
func (e *Engine) onBalancers(ctx context.Context, lbs []*hostRun, script string) error {
	for _, lb := range lbs {
		res, err := lb.exec.Run(ctx, executor.Command{Script: script, Become: lb.host.Conn.Become})
		if err != nil {
			return fmt.Errorf("%s: %w", lb.host.Name, err)
		}
		if !res.OK() {
			return fmt.Errorf("%s: %s", lb.host.Name, strings.TrimSpace(string(res.Stderr)))
		}
	}
	return nil
}

// drainState is one host's drain during one play.
type drainState struct {
	play    string
	d       *inventory.Drain
	via     drainer
	drained bool
}

// drainer takes one host out of service and puts it back: through the load
// balancers in front of it (balancerDrain), or by a command on the host
// itself (selfDrain, the load balancers' floating address).
type drainer interface {
	// out takes the host out of service; the message says how.
	out(ctx context.Context, hr *hostRun) (string, error)
	// back puts the healthy host back in service.
	back(ctx context.Context, hr *hostRun) error
}

// newDrainer picks the drainer of d.
func (e *Engine) newDrainer(d *inventory.Drain) drainer {
	if d.Command != "" {
		return selfDrain{d: d}
	}
	return &balancerDrain{e: e, d: d}
}

// balancerDrain sets the host's server to drain on every load balancer of
// d.Through, and ready again.
type balancerDrain struct {
	e   *Engine
	d   *inventory.Drain
	lbs []*hostRun
}

func (b *balancerDrain) connect(ctx context.Context) error {
	if b.lbs != nil {
		return nil
	}
	if b.e.opts.LoadBalancer == nil {
		return fmt.Errorf("drain through %s: the engine was given no LoadBalancer", b.d.Through)
	}
	lbs, err := b.e.balancers(ctx, b.d)
	b.lbs = lbs
	return err
}

func (b *balancerDrain) out(ctx context.Context, hr *hostRun) (string, error) {
	if err := b.connect(ctx); err != nil {
		return "", err
	}
	start := time.Now()
	if err := b.e.onBalancers(ctx, b.lbs, b.e.opts.LoadBalancer.DrainScript(b.d, hr.host.Name)); err != nil {
		return "", err
	}
	return fmt.Sprintf("drained from %s/%s on %s in %s", b.d.Backend, hr.host.Name, hostNamesOf(b.lbs), time.Since(start).Round(time.Millisecond)), nil
}

func (b *balancerDrain) back(ctx context.Context, hr *hostRun) error {
	if err := b.connect(ctx); err != nil {
		return err
	}
	url := b.d.HealthURL
	if strings.Contains(url, "%s") {
		url = fmt.Sprintf(url, hr.host.Address)
	}
	return b.e.onBalancers(ctx, b.lbs, b.e.opts.LoadBalancer.ReadyScript(b.d, hr.host.Name, url))
}

// runDrained runs a host's play with the drain armed: the first task that
// is about to change something takes the host out of the load balancers
// (beforeChange), so a host with nothing to change costs nothing extra.
// Once the play and its handlers are through, the host's health URL is
// checked from each balancer and it goes back into rotation; a host that
// failed stays out.
func (e *Engine) runDrained(ctx context.Context, p Play, d *inventory.Drain, hr *hostRun, defaults map[string]any) bool {
	if e.opts.Check || hr.exec == nil {
		return e.runHostPlay(ctx, p, hr, defaults)
	}
	hr.drain = &drainState{play: p.Group, d: d, via: e.newDrainer(d)}
	defer func() { hr.drain = nil }()
	ds := hr.drain
	if hr.left.Drained(p.Group) {
		// An earlier run drained this host and never put it back (it
		// failed): this run puts it back once the host is healthy.
		ds.drained = true
		e.drainEvent(hr, StatusOK, "out of rotation since an earlier run")
	}
	ok := e.runHostPlay(ctx, p, hr, defaults)
	if !ds.drained {
		return ok
	}
	if !ok {
		e.drainEvent(hr, StatusFailed, "left out of rotation: the host failed")
		return false
	}
	if err := ds.via.back(ctx, hr); err != nil {
		e.drainEvent(hr, StatusFailed, "back in rotation failed: "+err.Error())
		hr.failed = true
		hr.stats.Failed++
		return false
	}
	e.drainEvent(hr, StatusOK, "healthy and back in rotation")
	if err := e.markDrained(ctx, hr, p.Group, false); err != nil {
		e.drainEvent(hr, StatusFailed, err.Error())
		return false
	}
	return true
}

// beforeChange drains the host, once per play, before its first change.
func (e *Engine) beforeChange(ctx context.Context, hr *hostRun) error {
	ds := hr.drain
	if ds == nil || ds.drained {
		return nil
	}
	msg, err := ds.via.out(ctx, hr)
	if err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	ds.drained = true
	if err := e.markDrained(ctx, hr, ds.play, true); err != nil {
		return err
	}
	e.drainEvent(hr, StatusOK, msg)
	return nil
}

// markDrained records on the host that it is out of rotation (or no longer
// is), so that a run after a failed one knows to put it back.
func (e *Engine) markDrained(ctx context.Context, hr *hostRun, play string, drained bool) error {
	file := statedir.DrainedFile(hr.stateDir, play)
	script := "rm -f " + shq(file)
	if drained {
		script = fmt.Sprintf("mkdir -p %s && : > %s", shq(path.Dir(file)), shq(file))
	}
	res, err := hr.exec.Run(ctx, executor.Command{Script: script, Become: hr.host.Conn.Become})
	if err == nil && !res.OK() {
		err = errors.New(strings.TrimSpace(string(res.Stderr)))
	}
	if err != nil {
		return fmt.Errorf("record drain state in %s: %w", file, err)
	}
	return nil
}

func (e *Engine) drainEvent(hr *hostRun, status Status, msg string) {
	play := ""
	if hr.drain != nil {
		play = hr.drain.play
	}
	e.opts.Report.Event(Event{Kind: "drain", Play: play, Host: hr.host.Name, Status: status, Message: msg})
}

func hostNamesOf(hs []*hostRun) string {
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.host.Name
	}
	return strings.Join(names, ", ")
}
