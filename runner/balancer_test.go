package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/executor"
)

// withBalancer rewrites the lab's inventory so that its last host becomes
// a load balancer outside the run's plays (group lb, no roles) and group
// site drains through it (serial when above 0). The balancer has no
// HAProxy socket, so the drain and ready scripts find nothing to do there:
// what is tested is when ferry connects to it and what it runs there.
func withBalancer(t *testing.T, l *lab, serial int) (lb string) {
	t.Helper()
	drain := "    drain: {through: lb, backend: web, timeout: 5s}\n"
	if serial > 0 {
		drain += "    serial: " + itoa(serial) + "\n"
	}
	return splitLastHost(t, l, "lb", "", drain)
}

// splitLastHost moves the lab's last host out of group site into a group
// of its own, group, with the YAML keys groupKeys (e.g. "    roles: [x]\n"),
// adds siteKeys to group site's, and returns the host's name.
func splitLastHost(t *testing.T, l *lab, group, groupKeys, siteKeys string) (name string) {
	t.Helper()
	path := filepath.Join(l.dir, "inventory.yml")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hosts := regexp.MustCompile(`(?m)^      (h\d\d): .*\n`).FindAllStringSubmatchIndex(string(text), -1)
	if len(hosts) < 2 {
		t.Fatal("the lab needs two hosts or more")
	}
	last := hosts[len(hosts)-1]
	name = string(text[last[2]:last[3]])
	line := string(text[last[0]:last[1]])
	site := string(text[:last[0]]) + string(text[last[1]:])
	site = regexp.MustCompile(`(?m)^    roles: \[site\]\n`).ReplaceAllLiteralString(site, "    roles: [site]\n"+siteKeys)
	out := site + "  " + group + ":\n" + groupKeys + "    hosts:\n" + line
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if l.inv, err = inventory.Load(path); err != nil {
		t.Fatal(err)
	}
	return name
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestBalancerOutsidePlaysDialedOnce: hosts of one batch drain at the same
// time through a load balancer no play connected; the engine opens one
// connection to it, not one per draining host (check-then-dial), and,
// under -race, the engine's host table is never read (the batch's third
// host waits for a fork) while a drain adds the balancer to it.
func TestBalancerOutsidePlaysDialedOnce(t *testing.T) {
	l := newLab(t, 4, "site")
	lb := withBalancer(t, l, 0)
	var mu sync.Mutex
	dials := 0
	second := make(chan struct{})
	rec, _ := mustDeploy(t, l, runOpts{forks: 2, lb: logBalancer{filepath.Join(l.dir, "lb.log")}, dialing: func(h *inventory.Host) {
		if h.Name != lb {
			return
		}
		mu.Lock()
		dials++
		n := dials
		mu.Unlock()
		if n == 1 {
			// Hold the first dial open long enough for the other
			// draining host to come by: a second dial fails the test.
			select {
			case <-second:
			case <-time.After(time.Second):
			}
		} else {
			close(second)
		}
	}})
	mu.Lock()
	defer mu.Unlock()
	if dials != 1 {
		t.Errorf("the balancer was dialed %d times, want once", dials)
	}
	drained := map[string]bool{}
	for _, ev := range rec.events {
		if ev.Kind == "drain" {
			drained[ev.Host] = true
		}
	}
	if !drained["h01"] || !drained["h02"] || !drained["h03"] {
		t.Errorf("drained %v, want h01, h02 and h03 (all change on a first deploy)", drained)
	}
}

// orderLog records, in order, the round trips of every host and the plays
// beginning.
type orderLog struct {
	mu    sync.Mutex
	lines []string
}

func (o *orderLog) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, s)
}

func (o *orderLog) Event(ev runner.Event) {
	if ev.Kind == "play" || ev.Kind == "drain" {
		o.add(ev.Kind + " " + ev.Play + " " + ev.Host)
	}
}

func (o *orderLog) Recap(runner.Recap) {}

type loggedExec struct {
	executor.Executor
	log *orderLog
}

func (x loggedExec) Run(ctx context.Context, cmd executor.Command) (executor.Result, error) {
	x.log.add("round trip")
	return x.Executor.Run(ctx, cmd)
}

func (x loggedExec) Stat(ctx context.Context, path string, become bool) (executor.FileInfo, error) {
	x.log.add("round trip")
	return x.Executor.Stat(ctx, path, become)
}

func (x loggedExec) ReadFile(ctx context.Context, path string, become bool) ([]byte, error) {
	x.log.add("round trip")
	return x.Executor.ReadFile(ctx, path, become)
}

func (x loggedExec) ReadBatch(ctx context.Context, reads []executor.Read) ([]executor.ReadAnswer, error) {
	x.log.add("round trip")
	return x.Executor.(executor.BatchReader).ReadBatch(ctx, reads)
}

// TestNoOpPlansFirstAndNeverDrains: on a converged serial group that drains
// through a load balancer, a no-op run plans every host before the first
// play begins, so that in their turns the hosts cost no round trip at all;
// it never connects to the load balancer, let alone drains a host there,
// and reports every task, as a run in turn would. Each host costs two
// round trips: its facts, and one batch of all its tasks' reads.
func TestNoOpPlansFirstAndNeverDrains(t *testing.T) {
	l := newLab(t, 3, "site")
	lb := withBalancer(t, l, 1)
	lbLog := filepath.Join(l.dir, "lb.log")
	first, _ := mustDeploy(t, l, runOpts{lb: logBalancer{lbLog}})
	if d := hostTimeline(first, "h01"); len(d) == 0 || !strings.HasPrefix(d[0], "drain: drained from web/h01") {
		t.Fatalf("the converging run did not drain h01 first: %q", d)
	}
	if err := os.Remove(lbLog); err != nil {
		t.Fatalf("the converging run ran no balancer script: %v", err)
	}
	log := &orderLog{}
	var mu sync.Mutex
	dialed := []string{}
	rec, rc := mustDeploy(t, l, runOpts{rep: log, lb: logBalancer{lbLog},
		dialing: func(h *inventory.Host) {
			mu.Lock()
			defer mu.Unlock()
			dialed = append(dialed, h.Name)
		},
		wrap: func(x executor.Executor) executor.Executor { return loggedExec{x, log} },
	})
	if rc.Changed != 0 {
		t.Fatalf("not a no-op: %v", rec.changed())
	}
	if slices.Contains(dialed, lb) {
		t.Errorf("the no-op connected to the load balancer %s", lb)
	}
	if got, err := os.ReadFile(lbLog); err == nil {
		t.Errorf("the no-op ran balancer scripts: %q", got)
	}
	played, late := false, 0
	for _, line := range log.lines {
		switch {
		case strings.HasPrefix(line, "drain"):
			t.Errorf("the no-op drained: %s", line)
		case strings.HasPrefix(line, "play"):
			played = true
		case played && line == "round trip":
			late++
		}
	}
	if late > 0 {
		t.Errorf("%d round trips after the plays began: %q", late, log.lines)
	}
	for _, h := range []string{"h01", "h02"} {
		st := rc.Hosts[h]
		if st == nil || st.Tasks == 0 || st.OK+st.Skipped == 0 {
			t.Errorf("%s: recap %+v, want its tasks counted", h, st)
		}
		if st != nil && st.RoundTrips > 2 {
			t.Errorf("%s: %d round trips, want 2 (facts, one batch of reads)", h, st.RoundTrips)
		}
		tasks := 0
		for _, ev := range rec.events {
			if ev.Host == h && ev.Kind == "task" {
				tasks++
			}
		}
		if st != nil && tasks != st.OK+st.Skipped {
			t.Errorf("%s: %d task events, recap says %d ok + %d skipped", h, tasks, st.OK, st.Skipped)
		}
	}
}
