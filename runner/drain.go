package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
)

// Rolling changes behind HAProxy: a host with changes pending is set to
// drain on every load balancer, ferry waits for its connections to finish,
// changes it, checks its health URL from each load balancer, and only then
// sets it ready again. A host that fails stays out of rotation.

// pendingChanges plans a host's play in check mode, without reporting, and
// says whether anything would change. It costs one plan pass per host of a
// rolling group, which is what lets an unchanged host skip the drain.
func (e *Engine) pendingChanges(ctx context.Context, p Play, hr *hostRun, defaults map[string]any) bool {
	opts := e.opts
	opts.Check = true
	opts.Report = discard{}
	probe := &Engine{inv: e.inv, opts: opts, hosts: e.hosts}
	shadow := &hostRun{host: hr.host, exec: hr.exec, facts: hr.facts, registered: map[string]any{}}
	for k, v := range hr.registered {
		shadow.registered[k] = v
	}
	probe.runHostPlay(ctx, p, shadow, defaults)
	return shadow.stats.Changed > 0 || shadow.stats.Failed > 0
}

type discard struct{}

func (discard) Event(Event) {}
func (discard) Recap(Recap) {}

// balancers returns a connection to every host of the drain's Through group,
// opening (once) those that are not part of this run's plays.
func (e *Engine) balancers(ctx context.Context, d *inventory.Drain) ([]*hostRun, error) {
	var out []*hostRun
	for _, h := range e.inv.HostsOf(d.Through) {
		e.mu.Lock()
		hr := e.hosts[h.Name]
		e.mu.Unlock()
		if hr == nil {
			x, err := e.opts.Connect(ctx, h)
			if err != nil {
				return nil, fmt.Errorf("load balancer %s: %w", h.Name, err)
			}
			hr = &hostRun{host: h, exec: &countingExecutor{Executor: x}, registered: map[string]any{}}
			e.mu.Lock()
			e.hosts[h.Name] = hr
			e.mu.Unlock()
		}
		if hr.exec == nil {
			return nil, fmt.Errorf("load balancer %s is unreachable", h.Name)
		}
		out = append(out, hr)
	}
	return out, nil
}

// drainScript sets the server to drain and waits until HAProxy reports no
// current session on it. HAProxy offers no way to be told when a server's
// last session ends, so this polls the runtime API, on the balancer itself
// (one round trip from ferry), ten times a second, up to the timeout.
func drainScript(d *inventory.Drain, server string) string {
	return fmt.Sprintf(`sock=%s; srv=%s/%s; deadline=$(( $(date +%%s) + %d ))
echo "set server $srv state drain" | socat stdio "$sock" | grep . >&2 && exit 1
while :; do
  scur=$(echo "show stat" | socat stdio "$sock" | awk -F, -v b=%s -v s=%s '$1==b && $2==s {print $5}')
  [ "${scur:-0}" = 0 ] && exit 0
  [ "$(date +%%s)" -ge "$deadline" ] && { echo "still $scur sessions on $srv after %s" >&2; exit 1; }
  sleep 0.1
done`, shq(d.Socket), shq(d.Backend), shq(server), int(d.Timeout.Seconds()), shq(d.Backend), shq(server), d.Timeout)
}

// readyScript checks the host's health URL from the balancer until it
// answers (up to the timeout), then puts the server back in rotation.
func readyScript(d *inventory.Drain, server, url string) string {
	return fmt.Sprintf(`deadline=$(( $(date +%%s) + %d ))
until curl -fsS -o /dev/null --max-time 2 %s; do
  [ "$(date +%%s)" -ge "$deadline" ] && { echo "%s is not healthy: %s" >&2; exit 1; }
  sleep 0.2
done
echo "set server %s/%s state ready" | socat stdio %s | grep . >&2 && exit 1
exit 0`, int(d.Timeout.Seconds()), shq(url), server, url, d.Backend, server, shq(d.Socket))
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

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

// runDrained runs a host's play between a drain and a ready on the load
// balancers, when the host has changes pending; otherwise it just runs it.
func (e *Engine) runDrained(ctx context.Context, p Play, d *inventory.Drain, hr *hostRun, defaults map[string]any) bool {
	if e.opts.Check || hr.exec == nil || !e.pendingChanges(ctx, p, hr, defaults) {
		return e.runHostPlay(ctx, p, hr, defaults)
	}
	report := func(status Status, msg string) {
		e.opts.Report.Event(Event{Kind: "drain", Play: p.Group, Host: hr.host.Name, Status: status, Message: msg})
	}
	lbs, err := e.balancers(ctx, d)
	if err != nil {
		report(StatusFailed, err.Error())
		hr.failed = true
		hr.stats.Failed++
		return false
	}
	start := time.Now()
	if err := e.onBalancers(ctx, lbs, drainScript(d, hr.host.Name)); err != nil {
		report(StatusFailed, "drain: "+err.Error())
		hr.failed = true
		hr.stats.Failed++
		return false
	}
	report(StatusOK, fmt.Sprintf("drained from %s/%s on %s in %s", d.Backend, hr.host.Name, hostNamesOf(lbs), time.Since(start).Round(time.Millisecond)))
	if !e.runHostPlay(ctx, p, hr, defaults) {
		report(StatusFailed, "left out of rotation: the host failed")
		return false
	}
	url := d.HealthURL
	if strings.Contains(url, "%s") {
		url = fmt.Sprintf(url, hr.host.Address)
	}
	if err := e.onBalancers(ctx, lbs, readyScript(d, hr.host.Name, url)); err != nil {
		report(StatusFailed, "back in rotation failed: "+err.Error())
		hr.failed = true
		hr.stats.Failed++
		return false
	}
	report(StatusOK, "healthy and back in rotation")
	return true
}

func hostNamesOf(hs []*hostRun) string {
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.host.Name
	}
	return strings.Join(names, ", ")
}
