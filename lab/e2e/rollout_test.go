//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// Rolling changes behind HAProxy (issue 7, assertions 2 and 3). The web
// group of lab/inventory.yml rolls out one host at a time (serial: 1) and
// drains each changing host on the load balancers first.

// rolloutEvents lists, in order, the drain and task events of a run that
// concern the web hosts, as "host: what" lines.
func rolloutEvents(r deployRun) []string {
	var out []string
	for _, ev := range r.events {
		switch {
		case ev.Event == "drain":
			out = append(out, ev.Host+": "+ev.Msg)
		case ev.Event == "task" && ev.Status == "changed" && strings.HasPrefix(ev.Host, "web-"):
			out = append(out, ev.Host+": changed "+ev.Task)
		}
	}
	return out
}

// indexOf returns the position of the first line with host and text, or -1.
func indexOf(lines []string, host, text string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, host+": ") && strings.Contains(l, text) {
			return i
		}
	}
	return -1
}

// TestRolloutZeroDowntime changes the nginx template's output on both web
// servers while a client loop runs against the site's floating address:
// no request may fail, and the output shows web-01 drained, changed and
// back before web-02 is touched.
func TestRolloutZeroDowntime(t *testing.T) {
	converged(t)
	t.Cleanup(func() { deploy(t) })
	loop := startClientLoop(t, 3*time.Minute)
	start := time.Now()
	run := deploy(t, "-e", "nginx_referrer_policy=no-referrer")
	end := time.Now()
	loop.halt()
	if run.res.Code != 0 {
		t.Fatalf("rollout: %v\n%s", run, run.res.Stdout)
	}
	n, failed := loop.between(start, end)
	t.Logf("rollout took %s; %d requests during it, %d failed", end.Sub(start).Round(time.Millisecond), n, len(failed))
	if n == 0 {
		t.Fatal("the client loop sent no request during the rollout")
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed during the rollout:%s", len(failed), n, describe(failed))
	}
	ev := rolloutEvents(run)
	t.Logf("rollout order:\n  %s", strings.Join(ev, "\n  "))
	d1, c1, r1 := indexOf(ev, "web-01", "drained"), indexOf(ev, "web-01", "changed"), indexOf(ev, "web-01", "back in rotation")
	d2, c2, r2 := indexOf(ev, "web-02", "drained"), indexOf(ev, "web-02", "changed"), indexOf(ev, "web-02", "back in rotation")
	if d1 < 0 || c1 < 0 || r1 < 0 || d2 < 0 || c2 < 0 || r2 < 0 {
		t.Fatalf("drain, change or return missing for a web server:\n%s", strings.Join(ev, "\n"))
	}
	if !(d1 < c1 && c1 < r1 && r1 < d2 && d2 < c2 && c2 < r2) {
		t.Errorf("rollout order wrong (want web-01 drained, changed, back, then web-02):\n%s", strings.Join(ev, "\n"))
	}
	for _, h := range []string{"web-01", "web-02"} {
		if r := runOnHost(t, h, "grep -q 'no-referrer' /etc/nginx/nginx.conf"); r.Code != 0 {
			t.Errorf("%s does not carry the new configuration", h)
		}
	}
	if drained := serversNotReady(t); drained != "" {
		t.Errorf("servers left out of rotation after the rollout: %s", drained)
	}
}

// TestRolloutStopsOnFailure rolls out a configuration nginx refuses: the
// first web server fails its validation and the rollout stops there, the
// second web server is not touched, and the site keeps serving.
func TestRolloutStopsOnFailure(t *testing.T) {
	converged(t)
	const conf = "/etc/nginx/nginx.conf"
	before := mustOnHost(t, "web-02", "sha256sum "+conf+"; stat -c %Y "+conf)
	loop := startClientLoop(t, 3*time.Minute)
	start := time.Now()
	run := deploy(t, "-e", "nginx_worker_connections=lots")
	end := time.Now()
	if run.res.Code != 1 {
		t.Errorf("rollout of a broken config: exit %d, want 1", run.res.Code)
	}
	ev := rolloutEvents(run)
	t.Logf("events:\n  %s", strings.Join(ev, "\n  "))
	if indexOf(ev, "web-02", "") >= 0 {
		t.Errorf("web-02 was touched after web-01 failed:\n%s", strings.Join(ev, "\n"))
	}
	stopped := false
	for _, e := range run.events {
		if e.Event == "play" && e.Status == "failed" && strings.Contains(e.Msg, "rollout of web stopped") {
			stopped = true
		}
	}
	if !stopped {
		t.Errorf("no event says the rollout stopped:\n%s", run.res.Stdout)
	}
	if after := mustOnHost(t, "web-02", "sha256sum "+conf+"; stat -c %Y "+conf); after != before {
		t.Errorf("web-02's config changed:\nbefore %s\nafter  %s", before, after)
	}
	// The site keeps serving: through web-02 while web-01 is out.
	waitUntil(t, 10*time.Second, "requests after the failed rollout", func() bool {
		n, _ := loop.between(end, time.Now())
		return n >= 5
	})
	loop.halt()
	n, failed := loop.between(start, time.Now())
	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed during and after the failed rollout:%s", len(failed), n, describe(failed))
	}
	// The next good deploy puts web-01 back in rotation.
	if fix := deploy(t); fix.res.Code != 0 {
		t.Fatalf("repair deploy: %v\n%s", fix, fix.res.Stdout)
	}
	if drained := serversNotReady(t); drained != "" {
		t.Errorf("servers still out of rotation after the repair: %s", drained)
	}
}

// serversNotReady lists web servers that HAProxy on either balancer does not
// have in the READY admin state.
func serversNotReady(t *testing.T) string {
	t.Helper()
	var bad []string
	for _, lb := range []string{"lb-01", "lb-02"} {
		out := mustOnHost(t, lb, `echo "show servers state web" | socat stdio /run/haproxy/admin.sock`)
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			// Fields: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
			if len(f) > 6 && f[1] == "web" && f[6] != "0" {
				bad = append(bad, lb+":"+f[3]+" admin_state="+f[6])
			}
		}
	}
	return strings.Join(bad, ", ")
}

// converged deploys the lab's inventory and requires it to succeed, so a
// rollout starts from the full stack whatever earlier tests did to the hosts.
func converged(t *testing.T) {
	t.Helper()
	if r := deploy(t); r.res.Code != 0 {
		t.Fatalf("converging deploy: %v\n%s", r, r.res.Stdout)
	}
}
