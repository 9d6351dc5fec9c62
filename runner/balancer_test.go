package runner_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
)

// withBalancer rewrites the lab's inventory so that its last host becomes
// a load balancer outside the run's plays (group lb, no roles) and group
// site drains through it. The balancer has no HAProxy socket, so the drain
// and ready scripts find nothing to do there: what is tested is when ferry
// connects to it and what it runs there.
func withBalancer(t *testing.T, l *lab, serial int) (lb string) {
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
	lb = string(text[last[2]:last[3]])
	line := string(text[last[0]:last[1]])
	site := string(text[:last[0]]) + string(text[last[1]:])
	drain := "    drain: {through: lb, backend: web, timeout: 5s}\n"
	if serial > 0 {
		drain += "    serial: " + itoa(serial) + "\n"
	}
	site = regexp.MustCompile(`(?m)^    roles: \[site\]\n`).ReplaceAllLiteralString(site, "    roles: [site]\n"+drain)
	out := site + "  lb:\n    hosts:\n" + line
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if l.inv, err = inventory.Load(path); err != nil {
		t.Fatal(err)
	}
	return lb
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
	rec, _ := mustDeploy(t, l, runOpts{forks: 2, dialing: func(h *inventory.Host) {
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
