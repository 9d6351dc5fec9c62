package runner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner"
)

// logBalancer is a runner.LoadBalancer whose scripts only log what the
// engine asked, on the balancer host, to one file.
type logBalancer struct{ log string }

var _ runner.LoadBalancer = logBalancer{}

func (b logBalancer) DrainScript(d *inventory.Drain, server string) string {
	return "echo " + shell.Quote("drain "+d.Backend+"/"+server) + " >> " + shell.Quote(b.log)
}

func (b logBalancer) ReadyScript(d *inventory.Drain, server, url string) string {
	return "echo " + shell.Quote("ready "+d.Backend+"/"+server+" "+url) + " >> " + shell.Quote(b.log)
}

// withBalancerDrain makes group site roll one host at a time, drained
// through the load balancers of group site itself (each host is the
// others' balancer here: the engine only needs hosts to run scripts on).
func withBalancerDrain(t *testing.T, l *lab) {
	t.Helper()
	withSiteKeys(t, l, "    serial: 1\n    drain: {through: site, backend: web, health_url: \"http://%s/\"}\n")
}

// TestBalancerDrainThroughLoadBalancer: the engine drains each host before
// its first change and readies it after its play, on every balancer, with
// the scripts of the LoadBalancer it was given, and knows no more of it.
func TestBalancerDrainThroughLoadBalancer(t *testing.T) {
	l := newLab(t, 2, "site")
	withBalancerDrain(t, l)
	log := filepath.Join(l.dir, "lb.log")
	rec, _ := mustDeploy(t, l, runOpts{lb: logBalancer{log}})
	got, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	addr := l.inv.Host("h01").Address
	want := strings.Repeat("drain web/h01\n", 2) + strings.Repeat("ready web/h01 http://"+addr+"/\n", 2) +
		strings.Repeat("drain web/h02\n", 2) + strings.Repeat("ready web/h02 http://"+addr+"/\n", 2)
	if string(got) != want {
		t.Errorf("balancer calls:\n%s\nwant:\n%s", got, want)
	}
	if tl := hostTimeline(rec, "h01"); len(tl) < 3 || !strings.HasPrefix(tl[0], "drain: drained from web/h01 on h01, h02") {
		t.Errorf("h01: %q", tl)
	}
}

// TestBalancerDrainNeedsLoadBalancer: an engine given no LoadBalancer
// refuses to change a host that must be drained, saying why.
func TestBalancerDrainNeedsLoadBalancer(t *testing.T) {
	l := newLab(t, 1, "site")
	withBalancerDrain(t, l)
	rec, rc, _ := l.deploy(runOpts{})
	if rc.Failed == 0 || len(rec.changed()) != 0 {
		t.Fatalf("failed %d, changed %v", rc.Failed, rec.changed())
	}
	var msg string
	for _, ev := range rec.events {
		msg += ev.Message
	}
	if !strings.Contains(msg, "drain through site: the engine was given no LoadBalancer") {
		t.Errorf("messages: %q", msg)
	}
}
