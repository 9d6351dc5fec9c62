//go:build e2e

package e2e

// Issues 7 and 19: the floating address (keepalived role) and monitoring
// (monitoring role, ferry status), checked from the controller against the
// real lab: HAProxy killed or stopped on the holder of the address, rolling
// restarts and changes of the lb group, each under a client sending 25
// requests per second through the address, with the counts in the output.
//
// Needs the lab inventory to run keepalived on the lb group (with its
// self drain, ferry-lb-handover) and monitoring on every group, with a
// monitor host (haMonitor) in group monitor, and the secret
// monitoring_mysqld_exporter_password. Helpers used from the harness and sibling files: runFerry,
// runOnHost, mustOnHost, deploy, labCA, waitUntil, stackSite.
//
// Each test restores what it stopped (t.Cleanup) and waits until the stack
// is back as it found it, so that the tests may run in any order.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/lab/labtest"
)

const (
	haVIP     = "198.18.0.10"
	haMonitor = "monitor-01"
	// haAlertLimit bounds how long an alert may take to fire: HAProxy's
	// checks (2 x 1 s) + a scrape (5 s) + an evaluation (5 s) + the rule's
	// for: (10 s), with margin.
	haAlertLimit = 45 * time.Second
)

// haDeploy converges the stack once per test binary: the HA tests need
// keepalived and Prometheus in place, and leave them so.
var haDeployOnce sync.Once

func haDeploy(t *testing.T) {
	t.Helper()
	var failed string
	haDeployOnce.Do(func() {
		run := deploy(t)
		if run.res.Code != 0 || run.recap.Failed != 0 {
			// A fresh lab's first deploy sometimes fails on an exporter's
			// restart (monitoring role, prometheus-nginx-exporter exiting 1
			// on SIGTERM), which stops the web rollout before the lb
			// group: logged, and the deploy runs once more.
			t.Logf("first deploy failed, once more: exit %d, failed tasks %v", run.res.Code, run.failedTasks())
			run = deploy(t)
		}
		if run.res.Code != 0 || run.recap.Failed != 0 {
			failed = run.String() + "\nstdout:\n" + run.res.Stdout
		}
	})
	if failed != "" {
		t.Fatalf("deploy: %s", failed)
	}
}

// failedTasks lists "host/task" for every failed task or handler.
func (r deployRun) failedTasks() []string {
	var out []string
	for _, ev := range r.events {
		if ev.Status == "failed" {
			out = append(out, ev.Host+"/"+ev.Event+":"+ev.Task)
		}
	}
	return out
}

// vipHolder returns the lb hosts that hold the floating address now.
func vipHolder(t *testing.T) []string {
	t.Helper()
	var holders []string
	for _, h := range []string{"lb-01", "lb-02"} {
		r := runOnHost(t, h, "ip -o -4 addr show | grep -q ' inet "+haVIP+"/'")
		if r.Code == 0 {
			holders = append(holders, h)
		}
	}
	return holders
}

func holdsAlone(t *testing.T, host string) bool {
	h := vipHolder(t)
	return len(h) == 1 && h[0] == host
}

// vipClient talks to the site at the floating address, verifying against
// the lab CA, one connection per request, with a short timeout so that a
// request caught in the move fails fast instead of hiding it.
func vipClient(t *testing.T) *http.Client {
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &http.Client{
		Timeout: 3 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return dialer.DialContext(ctx, network, net.JoinHostPort(haVIP, port))
			},
			TLSClientConfig:   &tls.Config{RootCAs: labCA(t), ServerName: stackSite, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// probe is one request of the client loop: when it started, how long it
// took, and how it ended.
type probe struct {
	at  time.Time
	dur time.Duration
	err error
}

// haRequestEvery is the client's pace: 25 requests per second.
const haRequestEvery = 40 * time.Millisecond

// clientLoop starts a request to https://site/ every haRequestEvery until
// stopped or limit passes, each on its own goroutine, so that a slow
// request (a SYN sent again after a hand-over) does not lower the rate,
// recording each outcome.
type clientLoop struct {
	mu     sync.Mutex
	probes []probe
	stop   chan struct{}
	done   chan struct{}
}

func startClientLoop(t *testing.T, limit time.Duration) *clientLoop {
	c := vipClient(t)
	l := &clientLoop{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		var inflight sync.WaitGroup
		defer close(l.done)
		defer inflight.Wait()
		end := time.After(limit)
		tick := time.NewTicker(haRequestEvery)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-end:
				return
			case <-tick.C:
			}
			inflight.Add(1)
			go func(at time.Time) {
				defer inflight.Done()
				resp, err := c.Get("https://" + stackSite + "/")
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				l.mu.Lock()
				l.probes = append(l.probes, probe{at: at, dur: time.Since(at), err: err})
				l.mu.Unlock()
			}(time.Now())
		}
	}()
	t.Cleanup(l.halt)
	return l
}

// halt stops the loop and waits for the requests in flight.
func (l *clientLoop) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

// between returns how many requests started in [from, to) and which of
// them failed.
func (l *clientLoop) between(from, to time.Time) (n int, failed []probe) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.probes {
		if p.at.Before(from) || !p.at.Before(to) {
			continue
		}
		n++
		if p.err != nil {
			failed = append(failed, p)
		}
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].at.Before(failed[j].at) })
	return n, failed
}

// slowest returns the longest request that started in [from, to).
func (l *clientLoop) slowest(from, to time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var d time.Duration
	for _, p := range l.probes {
		if !p.at.Before(from) && p.at.Before(to) && p.dur > d {
			d = p.dur
		}
	}
	return d
}

// failWindow is the window of failed requests: from the start of the first
// failed request to the end of the last one; 0 when none failed.
func failWindow(failed []probe) time.Duration {
	if len(failed) == 0 {
		return 0
	}
	first, last := failed[0].at, failed[0].at.Add(failed[0].dur)
	for _, p := range failed[1:] {
		if p.at.Before(first) {
			first = p.at
		}
		if e := p.at.Add(p.dur); e.After(last) {
			last = e
		}
	}
	return last.Sub(first)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func describe(failed []probe) string {
	var b strings.Builder
	for i, p := range failed {
		if i == 5 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(failed)-5)
			break
		}
		fmt.Fprintf(&b, "\n  %s (+%v): %v", p.at.Format("15:04:05.000"), p.dur.Round(time.Millisecond), p.err)
	}
	return b.String()
}

// lbStatus is one load balancer as its ferry-lb-handover status reports it.
type lbStatus struct {
	state  string // keepalived's VRRP state: MASTER, BACKUP, FAULT
	holds  bool   // the floating address is on this host
	serves bool   // HAProxy serves the site here
}

func lbStatuses(t *testing.T) map[string]lbStatus {
	t.Helper()
	out := map[string]lbStatus{}
	for _, h := range []string{"lb-01", "lb-02"} {
		r := runOnHost(t, h, "/usr/local/sbin/ferry-lb-handover status")
		kv := map[string]string{}
		for _, f := range strings.Fields(r.Stdout) {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		out[h] = lbStatus{state: kv["state"], holds: kv["holds"] == "yes", serves: kv["serves"] == "yes"}
	}
	return out
}

// lbSettled returns the holder of the floating address when exactly one
// load balancer holds it and both are ready for it (keepalived a
// candidate, HAProxy serving).
func lbSettled(t *testing.T) (string, bool) {
	holder := ""
	for h, s := range lbStatuses(t) {
		if !s.serves || (s.state != "MASTER" && s.state != "BACKUP") {
			return "", false
		}
		if s.holds {
			if holder != "" {
				return "", false
			}
			holder = h
		}
	}
	return holder, holder != ""
}

func waitSettled(t *testing.T, limit time.Duration) string {
	t.Helper()
	var holder string
	waitUntil(t, limit, "one holder of the floating address, both load balancers ready", func() bool {
		h, ok := lbSettled(t)
		holder = h
		return ok
	})
	return holder
}

func otherLB(h string) string {
	if h == "lb-01" {
		return "lb-02"
	}
	return "lb-01"
}

// vrrpChanges returns keepalived's state changes on host since a moment,
// from its journal: the lab hosts share the controller's clock, so the
// times compare with the test's.
func vrrpChanges(t *testing.T, host string, since time.Time) []vrrpChange {
	t.Helper()
	r := runOnHost(t, host, fmt.Sprintf("journalctl -u keepalived -o short-unix --no-pager --since @%.3f | grep 'Entering .* STATE'", float64(since.UnixMicro())/1e6))
	var out []vrrpChange
	for _, line := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		var sec float64
		if _, err := fmt.Sscanf(f[0], "%f", &sec); err != nil {
			continue
		}
		_, rest, _ := strings.Cut(line, "Entering ")
		state, _, _ := strings.Cut(rest, " STATE")
		out = append(out, vrrpChange{at: time.UnixMicro(int64(sec * 1e6)), state: state})
	}
	return out
}

type vrrpChange struct {
	at    time.Time
	state string
}

func masters(cs []vrrpChange) (n int, first time.Time) {
	for _, c := range cs {
		if c.state == "MASTER" {
			if n == 0 {
				first = c.at
			}
			n++
		}
	}
	return n, first
}

// haTrials is how many times each fault is injected; the median counts.
const haTrials = 5

// TestHAFailover kills HAProxy (SIGKILL; systemd restarts it), and stops
// it, on the load balancer holding the floating address, five times each,
// while a client sends 25 requests per second through the address. Each
// trial: the address moves to the peer, no request that starts after the
// move fails, the failed host becomes ready again without taking the
// address back (nopreempt: no flap, no request lost on its return). The
// median window of failed requests must stay under a second.
func TestHAFailover(t *testing.T) {
	haDeploy(t)
	faults := []struct{ name, inject, restore string }{
		{"SIGKILL", "kill -KILL $(pidof haproxy)", ""},
		{"systemctl stop", "systemctl stop haproxy", "systemctl start haproxy"},
	}
	for _, f := range faults {
		t.Run(strings.ReplaceAll(f.name, " ", "_"), func(t *testing.T) {
			var windows []time.Duration
			total, totalFailed := 0, 0
			for i := 1; i <= haTrials; i++ {
				n, failed := haTrial(t, i, f.name, f.inject, f.restore)
				windows = append(windows, failWindow(failed))
				total += n
				totalFailed += len(failed)
			}
			med := median(windows)
			t.Logf("%s: failed-request windows %v, median %v; %d of %d requests failed in all", f.name, windows, med, totalFailed, total)
			if med >= time.Second {
				t.Errorf("%s: median window of failed requests %v, want under 1s", f.name, med)
			}
		})
	}
}

// haTrial runs one fault on the holder and returns the requests and the
// failed ones.
func haTrial(t *testing.T, trial int, name, inject, restore string) (int, []probe) {
	t.Helper()
	holder := waitSettled(t, 40*time.Second)
	peer := otherLB(holder)
	loop := startClientLoop(t, 2*time.Minute)
	time.Sleep(time.Second) // a baseline
	injected := time.Now()
	// The host's clock is the controller's: the fault's own time.
	var sec float64
	if _, err := fmt.Sscanf(mustOnHost(t, holder, "date +%s.%6N; "+inject), "%f", &sec); err == nil {
		injected = time.UnixMicro(int64(sec * 1e6))
	}
	var moved time.Time
	waitUntil(t, 5*time.Second, "the floating address on "+peer+" alone", func() bool {
		if holdsAlone(t, peer) {
			moved = time.Now()
			return true
		}
		return false
	})
	if restore != "" {
		mustOnHost(t, holder, restore)
	}
	waitSettled(t, 40*time.Second)
	ready := time.Now()
	time.Sleep(2 * time.Second) // requests after the return
	loop.halt()
	end := time.Now()
	n, failed := loop.between(time.Time{}, end)
	_, late := loop.between(moved, end)
	// keepalived's own record: the peer became MASTER once, the failed
	// host never (no flap).
	peerMasters, tookOver := masters(vrrpChanges(t, peer, injected))
	holderMasters, _ := masters(vrrpChanges(t, holder, injected))
	if peerMasters != 1 || holderMasters != 0 {
		t.Errorf("trial %d: keepalived became MASTER %d times on %s and %d times on %s since the fault, want once and never: flapping",
			trial, peerMasters, peer, holderMasters, holder)
	}
	t.Logf("trial %d: %s on %s: %s MASTER after %v (seen over ssh after %v); %s ready again after %v; %d of %d requests failed, window %v, slowest %v%s",
		trial, name, holder, peer, tookOver.Sub(injected).Round(time.Millisecond), moved.Sub(injected).Round(10*time.Millisecond), holder, ready.Sub(injected).Round(100*time.Millisecond),
		len(failed), n, failWindow(failed).Round(time.Millisecond), loop.slowest(time.Time{}, end).Round(time.Millisecond), describe(failed))
	if len(late) > 0 {
		t.Errorf("trial %d: %d requests failed after the address moved to %s:%s", trial, len(late), peer, describe(late))
	}
	if !holdsAlone(t, peer) {
		t.Errorf("trial %d: the address left %s when %s came back (held by %v): flapping", trial, peer, holder, vipHolder(t))
	}
	return n, failed
}

// TestLBSeamlessReload reloads HAProxy five times on the holder of the
// floating address, which keeps it, while the client runs: master-worker
// mode hands the listening sockets to the new worker (expose-fd
// listeners), and no request fails.
func TestLBSeamlessReload(t *testing.T) {
	haDeploy(t)
	holder := waitSettled(t, 40*time.Second)
	loop := startClientLoop(t, 2*time.Minute)
	time.Sleep(time.Second)
	start := time.Now()
	for i := 0; i < 5; i++ {
		mustOnHost(t, holder, "systemctl reload haproxy")
		time.Sleep(time.Second)
	}
	loop.halt()
	n, failed := loop.between(start, time.Now())
	t.Logf("5 reloads of HAProxy on %s, the holder: %d of %d requests failed, slowest %v%s", holder, len(failed), n, loop.slowest(start, time.Now()).Round(time.Millisecond), describe(failed))
	if len(failed) > 0 {
		t.Errorf("reloads of HAProxy: %d of %d requests failed", len(failed), n)
	}
	if !holdsAlone(t, holder) {
		t.Errorf("a reload moved the address away from %s: held by %v", holder, vipHolder(t))
	}
}

// TestLBRollingRestart restarts HAProxy on both load balancers in turn,
// each once the other is ready, while the client runs: the restart of the
// holder hands the address over first (haproxy.service's ExecStop hook),
// and no request fails.
func TestLBRollingRestart(t *testing.T) {
	haDeploy(t)
	waitSettled(t, 40*time.Second)
	loop := startClientLoop(t, 3*time.Minute)
	time.Sleep(time.Second)
	start := time.Now()
	for _, lb := range []string{"lb-01", "lb-02"} {
		before := vipHolder(t)
		t0 := time.Now()
		mustOnHost(t, lb, "systemctl restart haproxy")
		waitSettled(t, 40*time.Second)
		t.Logf("%s restarted (address was on %v, now on %v), both ready again after %v", lb, before, vipHolder(t), time.Since(t0).Round(100*time.Millisecond))
	}
	time.Sleep(2 * time.Second)
	loop.halt()
	n, failed := loop.between(start, time.Now())
	t.Logf("rolling restart of HAProxy: %d of %d requests failed, slowest %v%s", len(failed), n, loop.slowest(start, time.Now()).Round(time.Millisecond), describe(failed))
	if len(failed) > 0 {
		t.Errorf("rolling restart of HAProxy: %d of %d requests failed", len(failed), n)
	}
}

// TestLBRollingConfigChange deploys a new haproxy.cfg to the lb group that
// goes live by a restart (haproxy_apply=restart), then the old one again by
// a seamless reload, while the client runs. ferry's lb drain hands the
// floating address over before it touches a load balancer, one at a time,
// and puts it back once it serves: no request fails.
func TestLBRollingConfigChange(t *testing.T) {
	haDeploy(t)
	waitSettled(t, 40*time.Second)
	for _, step := range []struct {
		name string
		args []string
	}{
		{"new haproxy.cfg, restart", []string{"-e", "haproxy_timeout_client=31s", "-e", "haproxy_apply=restart"}},
		{"old haproxy.cfg, reload", nil},
	} {
		loop := startClientLoop(t, 5*time.Minute)
		time.Sleep(time.Second)
		start := time.Now()
		run := deploy(t, append([]string{"--limit", "lb"}, step.args...)...)
		waitSettled(t, 40*time.Second)
		time.Sleep(2 * time.Second)
		loop.halt()
		end := time.Now()
		if run.res.Code != 0 || run.recap.Failed != 0 {
			t.Fatalf("%s: deploy: %v\nstdout:\n%s", step.name, run, run.res.Stdout)
		}
		var drains []string
		for _, ev := range run.events {
			if ev.Event == "drain" {
				drains = append(drains, ev.Host+": "+ev.Msg)
			}
		}
		for _, lb := range []string{"lb-01", "lb-02"} {
			if indexOf(drains, lb, "release") < 0 || indexOf(drains, lb, "back in rotation") < 0 {
				t.Errorf("%s: %s not handed over and back:\n%s", step.name, lb, strings.Join(drains, "\n"))
			}
		}
		n, failed := loop.between(start, end)
		t.Logf("%s on the lb group (%v): %d of %d requests failed, slowest %v%s\n%s", step.name, end.Sub(start).Round(time.Second), len(failed), n,
			loop.slowest(start, end).Round(time.Millisecond), describe(failed), strings.Join(drains, "\n"))
		if len(failed) > 0 {
			t.Errorf("%s: %d of %d requests failed", step.name, len(failed), n)
		}
	}
}

// promGet runs curl against Prometheus' API on the monitor host (it listens
// on loopback there) and decodes the data member.
func promGet(t *testing.T, path string, data any) error {
	t.Helper()
	r := runOnHost(t, haMonitor, "curl -fsS --max-time 5 'http://127.0.0.1:9090"+path+"'")
	if r.Code != 0 {
		return fmt.Errorf("GET %s: exit %d: %s", path, r.Code, r.Stderr)
	}
	var resp struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &resp); err != nil || resp.Status != "success" {
		return fmt.Errorf("GET %s: %q: %v", path, r.Stdout, err)
	}
	return json.Unmarshal(resp.Data, data)
}

type promTargets struct {
	ActiveTargets []struct {
		Labels    map[string]string `json:"labels"`
		ScrapeURL string            `json:"scrapeUrl"`
		Health    string            `json:"health"`
		LastError string            `json:"lastError"`
	} `json:"activeTargets"`
}

type promAlerts struct {
	Alerts []struct {
		Labels map[string]string `json:"labels"`
		State  string            `json:"state"`
	} `json:"alerts"`
}

// backendDown reports whether BackendServerDown is in state for web-01.
func backendDown(t *testing.T, state string) bool {
	var a promAlerts
	if err := promGet(t, "/api/v1/alerts", &a); err != nil {
		t.Log(err)
		return false
	}
	for _, al := range a.Alerts {
		if al.Labels["alertname"] == "BackendServerDown" && al.Labels["server"] == "web-01" && al.State == state {
			return true
		}
	}
	return false
}

// TestHAMonitoring: Prometheus reports every target up; stopping nginx on
// web-01 fires the backend-down alert within the rule's window; ferry
// status shows the alert and the DOWN server and exits 1; with nginx back,
// the alert clears and ferry status exits 0.
func TestHAMonitoring(t *testing.T) {
	haDeploy(t)

	var tg promTargets
	waitUntil(t, 30*time.Second, "every Prometheus target up", func() bool {
		if err := promGet(t, "/api/v1/targets?state=active", &tg); err != nil {
			t.Log(err)
			return false
		}
		for _, x := range tg.ActiveTargets {
			if x.Health != "up" {
				return false
			}
		}
		return len(tg.ActiveTargets) > 0
	})
	jobs := map[string]int{}
	for _, x := range tg.ActiveTargets {
		jobs[x.Labels["job"]]++
	}
	// Every lab host runs a node exporter; the groups add the others.
	want := map[string]int{"node": len(labHosts()), "haproxy": 2, "nginx": 2, "mysqld": 2, "prometheus": 1}
	for job, n := range want {
		if jobs[job] != n {
			t.Errorf("job %s: %d targets, want %d (all: %v)", job, jobs[job], n, jobs)
		}
	}
	if r := runFerry(t, "status", "-i", labInventory()); r.Code != 0 {
		t.Fatalf("ferry status on the healthy stack: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	stopped := time.Now()
	mustOnHost(t, "web-01", "systemctl stop nginx")
	t.Cleanup(func() {
		runOnHost(t, "web-01", "systemctl start nginx")
		waitUntil(t, haAlertLimit, "BackendServerDown for web-01 to clear", func() bool {
			return !backendDown(t, "firing") && !backendDown(t, "pending")
		})
	})
	waitUntil(t, haAlertLimit, "BackendServerDown firing for web-01", func() bool { return backendDown(t, "firing") })
	t.Logf("BackendServerDown fired %v after nginx stopped on web-01", time.Since(stopped).Round(100*time.Millisecond))

	r := runFerry(t, "status", "-i", labInventory())
	if r.Code != 1 {
		t.Errorf("ferry status with web-01 down: exit %d, want 1\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	var alertRow, serverRow bool
	for _, line := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && f[1] == "alert" && f[2] == "BackendServerDown" && f[3] == "fail" && strings.Contains(line, "web/web-01"):
			alertRow = true
		case len(f) >= 4 && f[1] == "backend" && f[2] == "web/web-01" && f[3] == "fail":
			serverRow = true
		}
	}
	if !alertRow || !serverRow {
		t.Errorf("ferry status does not show the firing alert (%v) and web-01 DOWN on the lbs (%v):\n%s", alertRow, serverRow, r.Stdout)
	}

	mustOnHost(t, "web-01", "systemctl start nginx")
	waitUntil(t, haAlertLimit, "BackendServerDown for web-01 to clear", func() bool {
		return !backendDown(t, "firing") && !backendDown(t, "pending")
	})
	if r := runFerry(t, "status", "-i", labInventory()); r.Code != 0 {
		t.Errorf("ferry status after repair: exit %d\n%s", r.Code, r.Stdout)
	}
}

// statusChecks runs ferry status --output json and returns its check rows
// by host|check, each as status|detail.
func statusChecks(t *testing.T) map[string]string {
	t.Helper()
	r := runFerry(t, "status", "-i", labInventory(), "--output", "json")
	rows := map[string]string{}
	for _, ev := range labtest.JSONLines[struct{ Event, Host, Check, Status, Detail string }](t, r.Stdout) {
		if ev.Event == "check" {
			rows[ev.Host+"|"+ev.Check] = ev.Status + "|" + ev.Detail
		}
	}
	return rows
}

// TestHAStatusStandby: ferry status names the holder of the floating
// address and says whether the other load balancer is ready to take it,
// before and while HAProxy is stopped on that other one.
func TestHAStatusStandby(t *testing.T) {
	haDeploy(t)
	holder := waitSettled(t, 40*time.Second)
	standby := otherLB(holder)
	vipRow := holder + "|vip " + haVIP
	rows := statusChecks(t)
	if want := "ok|held by " + holder + "; ready to take it: " + standby; rows[vipRow] != want {
		t.Errorf("ferry status: %q, want %q (all: %v)", rows[vipRow], want, rows)
	}
	if r := rows[standby+"|failover"]; r != "ok|backup, ready" {
		t.Errorf("%s failover row: %q", standby, r)
	}
	mustOnHost(t, standby, "systemctl stop haproxy")
	t.Cleanup(func() {
		runOnHost(t, standby, "systemctl start haproxy")
		waitSettled(t, 40*time.Second)
	})
	waitUntil(t, 10*time.Second, "keepalived on "+standby+" in FAULT", func() bool { return lbStatuses(t)[standby].state == "FAULT" })
	rows = statusChecks(t)
	t.Logf("ferry status with haproxy stopped on %s: %s; %s", standby, rows[vipRow], rows[standby+"|failover"])
	if r := rows[vipRow]; !strings.HasPrefix(r, "warn|held by "+holder+"; no other load balancer ready: "+standby+" (") {
		t.Errorf("ferry status vip row: %q, want a warning that %s is not ready", r, standby)
	}
	if r := rows[standby+"|failover"]; !strings.HasPrefix(r, "fail|keepalived FAULT") {
		t.Errorf("%s failover row: %q", standby, r)
	}
}
