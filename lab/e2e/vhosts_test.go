//go:build e2e

package e2e

// Issue 14, role 3: several nginx virtual hosts from a list
// (examples/roles/vhosts): include_tasks with a loop, a dependency on the
// built-in nginx role whose handler the new role notifies, and run_once +
// delegate_to for the probe list written once per batch on a host outside
// the play. Proven from outside the hosts: each site answers with its page
// for its Host header, a second run changes nothing and check mode then
// reports nothing.
//
// Helpers from main_test.go and faults_test.go: runFerry, runOnHost,
// mustOnHost, hostAddress, repoRoot, exampleRoles, labGroupInventory,
// cleanupOnHosts, faultSite, newSite, decodeRun.

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestVhostsRole(t *testing.T) {
	webs := []string{"web-01", "web-02"}
	sites := []string{"shop.ferry.test", "blog.ferry.test", "docs.ferry.test"}
	var vars strings.Builder
	vars.WriteString("vars:\n  site_name: www.ferry.test\n  nginx_lb_group: web\n  vhosts_probe_host: monitor-01\n  vhosts:\n")
	for _, s := range sites {
		fmt.Fprintf(&vars, "    - {name: %s, text: \"welcome to %s\"}\n", s, s)
	}
	inv := labGroupInventory(t, vars.String(), "web", "common, vhosts", webs)
	// The probe host is in the inventory, not in the play.
	inv += fmt.Sprintf("  monitor:\n    hosts:\n      monitor-01: {address: %s}\n", hostAddress(t, "monitor-01"))
	s := newSite(t, inv)
	// Cleanups run last registered first: the web hosts, then monitor-01.
	cleanupOnHosts(t, []string{"monitor-01"}, "rm -rf /etc/ferry-vhosts")
	cleanupOnHosts(t, webs, "rm -rf /etc/nginx/conf.d/vhost-*.conf /var/www/vhosts; systemctl reload nginx || true")

	for _, h := range webs {
		openPort(t, h, 80) // the stack's firewall admits only the load balancers
	}
	first := s.deploy(t, "--roles-path", exampleRoles)
	if first.res.Code != 0 {
		t.Fatalf("deploy exited %d\n%s", first.res.Code, first.text())
	}
	// The probe list: written once (one host ran it, on monitor-01).
	var once []string
	for _, ev := range first.events {
		if ev["task"] == "probe list" {
			once = append(once, fmt.Sprintf("%s=%s", ev["host"], ev["status"]))
		}
	}
	if !slices.Equal(once, []string{"web-01=changed", "web-02=skipped"}) && !slices.Equal(once, []string{"web-02=skipped", "web-01=changed"}) {
		t.Errorf("probe list events %v, want it changed by web-01 and skipped on web-02", once)
	}
	var wantProbe []string
	for _, h := range webs {
		for _, site := range sites {
			wantProbe = append(wantProbe, fmt.Sprintf("http://%s/ %s", hostAddress(t, h), site))
		}
	}
	if got := mustOnHost(t, "monitor-01", "cat /etc/ferry-vhosts/targets"); got != strings.Join(wantProbe, "\n") {
		t.Errorf("probe list on monitor-01:\n%s\nwant:\n%s", got, strings.Join(wantProbe, "\n"))
	}
	// The nginx role's handler ran after the server blocks changed (it is
	// notified from the vhosts role; the nginx role's own flush ran it
	// once before, for nginx.conf).
	blocks, reloaded := map[any]bool{}, map[any]bool{}
	for _, ev := range first.events {
		switch {
		case ev["task"] == "site server block" && ev["status"] == "changed":
			blocks[ev["host"]] = true
		case ev["task"] == "reload nginx" && ev["status"] == "changed" && blocks[ev["host"]]:
			reloaded[ev["host"]] = true
		}
	}
	for _, h := range webs {
		if !reloaded[h] {
			t.Errorf("%s: reload nginx did not run after the server blocks changed", h)
		}
	}

	// From outside: every site on every host, by its Host header.
	client := &http.Client{Timeout: 10 * time.Second}
	for _, h := range webs {
		for _, site := range sites {
			req, err := http.NewRequest("GET", "http://"+hostAddress(t, h)+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = site
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", h, site, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "welcome to "+site+"\n" || resp.Header.Get("X-Vhost") != site || resp.Header.Get("X-Served-By") != h {
				t.Errorf("%s with Host %s: %d %q X-Vhost %q X-Served-By %q", h, site, resp.StatusCode, body, resp.Header.Get("X-Vhost"), resp.Header.Get("X-Served-By"))
			}
		}
	}

	second := s.deploy(t, "--roles-path", exampleRoles)
	if second.res.Code != 0 || second.recap["changed"] != float64(0) {
		t.Errorf("second run: exit %d, changed %v\n%s", second.res.Code, second.recap["changed"], second.text())
	}
	check := s.deploy(t, "--roles-path", exampleRoles, "--check", "--detailed-exitcode")
	// The recap leaves unknown out when it is 0.
	if check.res.Code != 0 || check.recap["changed"] != float64(0) || check.recap["unknown"] != nil {
		t.Errorf("check after the runs: exit %d, changed %v, unknown %v\n%s", check.res.Code, check.recap["changed"], check.recap["unknown"], check.text())
	}
}
