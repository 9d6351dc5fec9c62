//go:build e2e

package vagrant

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/lab/labtest"
)

// The VMs of lab/vagrant/inventory.yml.
const (
	webAddress = "198.18.1.21"
	lbAddress  = "198.18.1.11"
	siteName   = "www.ferry.test"
)

// recap is the last line of `ferry deploy --output json`.
type recap struct {
	Event string `json:"event"`
	Hosts map[string]struct {
		Changed     int  `json:"changed"`
		Failed      int  `json:"failed"`
		Unreachable bool `json:"unreachable"`
	} `json:"hosts"`
	Changed int `json:"changed"`
	Failed  int `json:"failed"`
}

// deploy runs ferry deploy on the VMs with JSON output and returns its
// exit code, recap and the changed tasks.
func deploy(t *testing.T, extra ...string) (int, recap, []string) {
	t.Helper()
	start := time.Now()
	res := runFerry(t, append([]string{"deploy", "-i", inventory, "--output", "json"}, extra...)...)
	t.Logf("ferry deploy %s: exit %d in %s", strings.Join(extra, " "), res.Code, time.Since(start).Round(100*time.Millisecond))
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	var rc recap
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rc); err != nil || rc.Event != "recap" {
		t.Fatalf("ferry deploy %v (exit %d): last line is not the recap: %q\nstderr:\n%s", extra, res.Code, lines[len(lines)-1], res.Stderr)
	}
	var changed []string
	for _, ev := range labtest.JSONLines[struct{ Event, Host, Task, Status string }](t, res.Stdout) {
		if (ev.Event == "task" || ev.Event == "handler") && ev.Status == "changed" {
			changed = append(changed, ev.Host+"/"+ev.Task)
		}
	}
	if res.Code != 0 && res.Code != 4 {
		t.Logf("stderr:\n%s", res.Stderr)
	}
	return res.Code, rc, changed
}

// TestStack deploys common, firewall, nginx, tls and haproxy to the two
// VMs, then checks the site through the load balancer, that a second run
// changes nothing and that check mode agrees.
func TestStack(t *testing.T) {
	code, rc, _ := deploy(t)
	if code != 0 || rc.Failed != 0 {
		t.Fatalf("first deploy: exit %d, recap %+v", code, rc)
	}
	for _, h := range []string{"web-01", "lb-01"} {
		if st, ok := rc.Hosts[h]; !ok || st.Unreachable || st.Failed != 0 {
			t.Errorf("recap for %s: %+v (present %v)", h, st, ok)
		}
	}

	body := httpsThroughLB(t)
	if want := "Served by <strong>web-01</strong> (" + webAddress + ")"; !strings.Contains(body, want) {
		t.Errorf("https://%s/ through %s: page lacks %q:\n%s", siteName, lbAddress, want, body)
	}

	code, rc, changed := deploy(t)
	if code != 0 || rc.Changed != 0 || len(changed) != 0 {
		t.Errorf("second deploy: exit %d, changed %d: %v", code, rc.Changed, changed)
	}

	code, _, changed = deploy(t, "--check", "--detailed-exitcode")
	if code != 0 {
		t.Errorf("deploy --check --detailed-exitcode: exit %d, want 0 (nothing pending); changed: %v", code, changed)
	}
}

// httpsThroughLB fetches the site from the load balancer, verifying its
// certificate against the lab CA that the tls role's certificate comes from.
func httpsThroughLB(t *testing.T) string {
	t.Helper()
	caFile := filepath.Join(repoRoot, filepath.Dir(inventory), ".ferry", "pki", "ca.crt")
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatalf("lab CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("lab CA %s: no certificate", caFile)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: siteName},
			// The site's name resolves to the load balancer, as
			// curl --resolve does; nothing leaves the VM network.
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, net.JoinHostPort(lbAddress, "443"))
			},
		},
	}
	resp, err := client.Get(fmt.Sprintf("https://%s/", siteName))
	if err != nil {
		t.Fatalf("https://%s/ through %s: %v", siteName, lbAddress, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("https://%s/ through %s: %s\n%s", siteName, lbAddress, resp.Status, b)
	}
	return string(b)
}
