//go:build e2e

package e2e

// Issue 6: the seed stack deployed by the built-in roles, checked from the
// controller (198.18.0.1) against the real lab hosts.
//
// Helpers this file uses from the lab harness (main_test.go):
//
//	runFerry(t, args ...string) cmdResult      runs bin/ferry from the repository root
//	runOnHost(t, host, script string) cmdResult runs script with /bin/sh as root on a lab host
//	cmdResult{Stdout, Stderr string; Code int}
//	repoRoot string                             the repository's absolute path
//
// The subtests run in order and each leaves the stack converged, because the
// later ones (idempotence, drift) depend on it.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/lab/labtest"
)

const (
	stackSite     = "www.ferry.test"
	stackLB       = "198.18.0.11"
	stackWeb01    = "198.18.0.21"
	stackDB01     = "198.18.0.31"
	stackDB02     = "198.18.0.32"
	healthWait    = 4 * time.Second // haproxy: inter 1s, fall 2 / rise 2, plus margin
	replicaBudget = 2 * time.Second
)

func stackInventory() string { return filepath.Join(repoRoot, "lab", "inventory.yml") }

func TestStack(t *testing.T) {
	steps := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"deploy", stackDeploy},
		{"https round robin", stackRoundRobin},
		{"replication", stackReplication},
		{"firewall", stackFirewall},
		{"second deploy changes nothing", stackIdempotent},
		{"web failover and repair", stackFailover},
		{"drift shown by check and repaired", stackDrift},
		{"invalid nginx config is refused", stackInvalidConfig},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			t.Fatalf("%s failed; later steps need a converged stack", s.name)
		}
	}
}

// --- ferry runs ----------------------------------------------------------

// recap is ferry's JSON recap line (the last line of --output json).
type recap struct {
	Event string `json:"event"`
	Hosts map[string]struct {
		OK          int  `json:"ok"`
		Changed     int  `json:"changed"`
		Failed      int  `json:"failed"`
		Skipped     int  `json:"skipped"`
		Unreachable bool `json:"unreachable"`
	} `json:"hosts"`
	Changed int `json:"changed"`
	Failed  int `json:"failed"`
}

// event is one NDJSON line of --output json other than the recap.
type event struct {
	Event   string   `json:"event"`
	Host    string   `json:"host"`
	Role    string   `json:"role"`
	Task    string   `json:"task"`
	Status  string   `json:"status"`
	Summary []string `json:"summary"`
	Diff    string   `json:"diff"`
	Msg     string   `json:"msg"`
}

type deployRun struct {
	res    cmdResult
	recap  recap
	events []event
}

// deploy runs `ferry deploy -i lab/inventory.yml --output json` with args.
func deploy(t *testing.T, args ...string) deployRun {
	t.Helper()
	all := append([]string{"deploy", "-i", stackInventory(), "--output", "json"}, args...)
	res := runFerry(t, all...)
	run := deployRun{res: res}
	lines := labtest.JSONLines[json.RawMessage](t, res.Stdout)
	var last []byte
	for _, line := range lines {
		last = line
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("ferry %v: output line %q: %v", all, line, err)
		}
		if ev.Event != "recap" {
			run.events = append(run.events, ev)
		}
	}
	if err := json.Unmarshal(last, &run.recap); err != nil || run.recap.Event != "recap" {
		t.Fatalf("ferry %v (exit %d): last line is not the recap: %q\nstderr:\n%s", all, res.Code, last, res.Stderr)
	}
	return run
}

// changedTasks lists "host/task" for every changed task and handler.
func (r deployRun) changedTasks() []string {
	var out []string
	for _, ev := range r.events {
		if (ev.Event == "task" || ev.Event == "handler") && ev.Status == "changed" {
			out = append(out, ev.Host+"/"+ev.Event+":"+ev.Task)
		}
	}
	return out
}

func (r deployRun) String() string {
	return fmt.Sprintf("exit %d, changed %v\nstderr:\n%s", r.res.Code, r.changedTasks(), r.res.Stderr)
}

func stackDeploy(t *testing.T) {
	run := deploy(t)
	if run.res.Code != 0 || run.recap.Failed != 0 {
		t.Fatalf("deploy: %v\nstdout:\n%s", run, run.res.Stdout)
	}
	for _, h := range []string{"db-01", "db-02", "web-01", "web-02", "lb-01", "lb-02"} {
		st, ok := run.recap.Hosts[h]
		if !ok || st.Unreachable || st.Failed != 0 {
			t.Errorf("recap for %s: %+v (present %v)", h, st, ok)
		}
	}
}

// --- HTTPS through the load balancer -------------------------------------

// labCA returns the lab CA: from the inventory folder's .ferry/pki, or as
// lb-01 trusts it.
func labCA(t *testing.T) *x509.CertPool {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(filepath.Dir(stackInventory()), ".ferry", "pki", "ca.crt"))
	if err != nil {
		r := runOnHost(t, "lb-01", "cat /usr/local/share/ca-certificates/ferry-lab-ca.crt")
		if r.Code != 0 {
			t.Fatalf("lab CA: %v; and from lb-01: %s", err, r.Stderr)
		}
		pemBytes = []byte(r.Stdout)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("lab CA: no certificate in the PEM")
	}
	return pool
}

// siteClient talks to the site at lb-01 with SNI and verification against
// the lab CA only (not the system roots), one connection per request.
func siteClient(t *testing.T) *http.Client {
	dialer := &net.Dialer{Timeout: 3 * time.Second}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return dialer.DialContext(ctx, network, net.JoinHostPort(stackLB, port))
			},
			TLSClientConfig:   &tls.Config{RootCAs: labCA(t), ServerName: stackSite, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// servedBy makes n sequential HTTPS requests and returns X-Served-By of each.
func servedBy(t *testing.T, c *http.Client, n int) ([]string, error) {
	var out []string
	for i := 0; i < n; i++ {
		resp, err := c.Get("https://" + stackSite + "/")
		if err != nil {
			return out, fmt.Errorf("request %d: %w", i+1, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return out, fmt.Errorf("request %d: status %d", i+1, resp.StatusCode)
		}
		out = append(out, resp.Header.Get("X-Served-By"))
	}
	return out, nil
}

func alternates(seq []string) bool {
	if len(seq) < 2 {
		return false
	}
	for i, s := range seq {
		if s != "web-01" && s != "web-02" {
			return false
		}
		if i > 0 && s == seq[i-1] {
			return false
		}
	}
	return true
}

func stackRoundRobin(t *testing.T) {
	c := siteClient(t)
	seq, err := servedBy(t, c, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !alternates(seq) {
		t.Errorf("10 requests were served by %v; want strict web-01/web-02 alternation", seq)
	}

	resp, err := c.Get("https://" + stackSite + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.VerifiedChains) == 0 {
		t.Error("certificate was not verified against the lab CA")
	}
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q", h)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if s := resp.Header.Get("Server"); strings.Contains(s, "/") {
		t.Errorf("Server header shows a version: %q", s)
	}

	// Plain HTTP answers with a redirect to the same URL over HTTPS.
	req, _ := http.NewRequest("GET", "http://"+stackSite+"/some/path?q=1", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 && resp.StatusCode != 302 && resp.StatusCode != 308 {
		t.Errorf("http://: status %d, want a redirect", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "https://"+stackSite+"/some/path?q=1" {
		t.Errorf("http:// redirects to %q", loc)
	}
}

// --- MySQL replication ---------------------------------------------------

func labSecret(t *testing.T, name string) string {
	t.Helper()
	inv, err := inventory.Load(stackInventory())
	if err != nil {
		t.Fatalf("load lab inventory: %v", err)
	}
	v, ok := inv.Secrets[name]
	if !ok || v == "" {
		t.Fatalf("the lab inventory's secrets hold no %s", name)
	}
	return v
}

// appSQL runs sql on server as the application user from web-01 (the app
// user may connect only from the web hosts). The password reaches mysql in
// the environment, from a here-document, not as an argument.
func appSQL(t *testing.T, server, sql string) cmdResult {
	t.Helper()
	pw := labSecret(t, "mysql_app_password")
	if strings.Contains(pw, "FERRY_EOF") {
		t.Fatal("password contains the here-document marker")
	}
	script := fmt.Sprintf(`command -v mysql >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-client >/dev/null
MYSQL_PWD=$(cat <<'FERRY_EOF'
%s
FERRY_EOF
)
export MYSQL_PWD
mysql -h %s -u app app -NBe %s`, pw, server, shellQuote(sql))
	return runOnHost(t, "web-01", script)
}

func shellQuote(s string) string { return shell.Literal(s) }

func stackReplication(t *testing.T) {
	id := time.Now().UnixNano() % 1_000_000_000
	token := fmt.Sprintf("e2e-%d", id)
	if r := appSQL(t, stackDB01, "CREATE TABLE IF NOT EXISTS e2e (id BIGINT PRIMARY KEY, v VARCHAR(64))"); r.Code != 0 {
		t.Fatalf("create table on db-01 as app: %s", r.Stderr)
	}
	if r := appSQL(t, stackDB01, fmt.Sprintf("INSERT INTO e2e VALUES (%d, '%s')", id, token)); r.Code != 0 {
		t.Fatalf("insert on db-01 as app: %s", r.Stderr)
	}
	written := time.Now()
	for {
		r := runOnHost(t, "db-02", fmt.Sprintf("mysql -NBe \"SELECT v FROM app.e2e WHERE id = %d\"", id))
		if strings.TrimSpace(r.Stdout) == token {
			t.Logf("row on db-02 after %v", time.Since(written).Round(time.Millisecond))
			break
		}
		if time.Since(written) > replicaBudget {
			t.Fatalf("row not on db-02 within %v (last: %q %q)", replicaBudget, r.Stdout, r.Stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}

	r := appSQL(t, stackDB02, fmt.Sprintf("INSERT INTO e2e VALUES (%d, 'replica')", id+1))
	if r.Code == 0 {
		t.Fatal("the app user wrote to the replica")
	}
	if !strings.Contains(r.Stderr, "read-only") && !strings.Contains(r.Stderr, "1290") {
		t.Errorf("write to db-02 refused for another reason than read-only: %s", r.Stderr)
	}
}

// --- firewall ------------------------------------------------------------

// reachable reports whether host can open a TCP connection to addr:port.
func reachable(t *testing.T, host, addr string, port int) bool {
	t.Helper()
	r := runOnHost(t, host, fmt.Sprintf("timeout 3 bash -c '</dev/tcp/%s/%d' 2>/dev/null", addr, port))
	return r.Code == 0
}

func stackFirewall(t *testing.T) {
	if reachable(t, "lb-01", stackDB01, 3306) {
		t.Error("lb-01 reaches db-01:3306")
	}
	if !reachable(t, "web-01", stackDB01, 3306) {
		t.Error("web-01 does not reach db-01:3306")
	}
	if !reachable(t, "lb-01", stackWeb01, 80) {
		t.Error("lb-01 does not reach web-01:80")
	}
	if r := runOnHost(t, "lb-01", "curl -sS -m 3 -o /dev/null -w '%{http_code}' http://"+stackWeb01+"/health"); strings.TrimSpace(r.Stdout) != "200" {
		t.Errorf("web-01 /health from lb-01: %q %s", r.Stdout, r.Stderr)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(stackWeb01, "80"), 3*time.Second); err == nil {
		c.Close()
		t.Error("the controller reaches web-01:80")
	}
	// SSH from the admin network still works (the harness itself uses it).
	if r := runOnHost(t, "web-01", "true"); r.Code != 0 {
		t.Errorf("ssh to web-01: %s", r.Stderr)
	}
}

// --- idempotence ---------------------------------------------------------

// managedFiles are files the roles write, per host; their mtime (with
// nanoseconds) and inode must survive a no-op deploy untouched.
var managedFiles = map[string][]string{
	"db-01":  {"/etc/mysql/mariadb.conf.d/zz-ferry.cnf", "/var/lib/ferry/mysql.cnf.sha256"},
	"db-02":  {"/etc/mysql/mariadb.conf.d/zz-ferry.cnf", "/var/lib/ferry/mysql.cnf.sha256"},
	"web-01": {"/etc/nginx/nginx.conf", "/var/www/ferry/index.html"},
	"web-02": {"/etc/nginx/nginx.conf", "/var/www/ferry/index.html"},
	"lb-01":  {"/etc/haproxy/haproxy.cfg", "/etc/haproxy/certs/site.pem", "/usr/local/share/ca-certificates/ferry-lab-ca.crt", "/var/lib/ferry/haproxy.sha256"},
	"lb-02":  {"/etc/haproxy/haproxy.cfg", "/etc/haproxy/certs/site.pem", "/usr/local/share/ca-certificates/ferry-lab-ca.crt", "/var/lib/ferry/haproxy.sha256"},
}

var commonFiles = []string{"/etc/hostname", "/etc/hosts", "/etc/timezone", "/etc/apt/apt.conf.d/90ferry", "/etc/ufw/user.rules", "/etc/ufw/user6.rules"}

func fileStamps(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for host, files := range managedFiles {
		all := append(append([]string(nil), commonFiles...), files...)
		r := runOnHost(t, host, "stat -c '%n %y %i' "+strings.Join(all, " "))
		if r.Code != 0 {
			t.Fatalf("stat on %s: %s", host, r.Stderr)
		}
		out[host] = r.Stdout
	}
	return out
}

func stackIdempotent(t *testing.T) {
	before := fileStamps(t)
	run := deploy(t)
	if run.res.Code != 0 {
		t.Fatalf("second deploy: %v", run)
	}
	if run.recap.Changed != 0 {
		t.Errorf("second deploy changed %d: %v", run.recap.Changed, run.changedTasks())
	}
	for h, st := range run.recap.Hosts {
		if st.Changed != 0 || st.Failed != 0 || st.Unreachable {
			t.Errorf("%s: %+v", h, st)
		}
	}
	after := fileStamps(t)
	for h := range before {
		if before[h] != after[h] {
			t.Errorf("%s: managed files touched by a no-op deploy:\nbefore:\n%safter:\n%s", h, before[h], after[h])
		}
	}
}

// --- failover ------------------------------------------------------------

func stackFailover(t *testing.T) {
	if r := runOnHost(t, "web-01", "systemctl stop nginx"); r.Code != 0 {
		t.Fatalf("stop nginx on web-01: %s", r.Stderr)
	}
	t.Cleanup(func() { runOnHost(t, "web-01", "systemctl start nginx") })
	// Wait for the health checks to take web-01 out on both balancers (a
	// fixed wait is too short on a loaded machine).
	for _, lb := range []string{"lb-01", "lb-02"} {
		waitUntil(t, 30*time.Second, lb+" marking web-01 DOWN", func() bool {
			return onHostOK(t, lb, `echo 'show stat' | socat stdio /run/haproxy/admin.sock | grep -q '^web,web-01,.*,DOWN,'`)
		})
	}

	c := siteClient(t)
	seq, err := servedBy(t, c, 10)
	if err != nil {
		t.Fatalf("with web-01 down: %v (served so far %v)", err, seq)
	}
	for _, s := range seq {
		if s != "web-02" {
			t.Fatalf("with web-01 down, served by %v", seq)
		}
	}

	run := deploy(t)
	if run.res.Code != 0 {
		t.Fatalf("repair deploy: %v", run)
	}
	got := run.changedTasks()
	if run.recap.Changed != 1 || len(got) != 1 || !strings.HasPrefix(got[0], "web-01/") {
		t.Errorf("repair deploy changed %d: %v; want exactly nginx started on web-01", run.recap.Changed, got)
	}
	if r := runOnHost(t, "web-01", "systemctl is-active nginx"); strings.TrimSpace(r.Stdout) != "active" {
		t.Fatalf("nginx on web-01 after deploy: %q", r.Stdout)
	}

	// Back in the pool after rise checks.
	deadline := time.Now().Add(3 * healthWait)
	for {
		seq, err := servedBy(t, c, 4)
		if err == nil && alternates(seq) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("web-01 not back in rotation: %v %v", seq, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// --- drift ---------------------------------------------------------------

func stackDrift(t *testing.T) {
	const conf = "/etc/nginx/nginx.conf"
	if r := runOnHost(t, "web-02", "sed -i 's/worker_connections [0-9]*;/worker_connections 17;/' "+conf+" && grep -q 'worker_connections 17;' "+conf); r.Code != 0 {
		t.Fatalf("edit %s on web-02: %s", conf, r.Stderr)
	}
	t.Cleanup(func() { deploy(t, "--limit", "web-02") })

	check := deploy(t, "--check", "--diff", "--detailed-exitcode")
	if check.res.Code != 4 {
		t.Errorf("check with drift: %v; want exit 4", check)
	}
	var drift []event
	for _, ev := range check.events {
		if ev.Event == "task" && ev.Status == "changed" {
			drift = append(drift, ev)
		}
	}
	if len(drift) != 1 || drift[0].Host != "web-02" || drift[0].Task != "nginx configuration" {
		t.Fatalf("check reports %v; want only web-02's nginx configuration", check.changedTasks())
	}
	if d := drift[0].Diff; !strings.Contains(d, "worker_connections 17;") || !strings.Contains(d, "worker_connections 1024;") {
		t.Errorf("diff does not show the hand edit:\n%s", d)
	}
	for _, h := range []string{"db-01", "db-02", "web-01", "lb-01", "lb-02"} {
		if st := check.recap.Hosts[h]; st.Changed != 0 {
			t.Errorf("check: %s changed %d", h, st.Changed)
		}
	}
	if r := runOnHost(t, "web-02", "grep -q 'worker_connections 17;' "+conf); r.Code != 0 {
		t.Fatal("check mode changed the file")
	}

	fix := deploy(t)
	if fix.res.Code != 0 {
		t.Fatalf("repair deploy: %v", fix)
	}
	if r := runOnHost(t, "web-02", "grep -q 'worker_connections 1024;' "+conf); r.Code != 0 {
		t.Error("deploy did not restore nginx.conf on web-02")
	}
	again := deploy(t, "--check", "--detailed-exitcode")
	if again.res.Code != 0 {
		t.Errorf("check after repair: %v; want exit 0", again)
	}
}

// --- invalid configuration -------------------------------------------------

func stackInvalidConfig(t *testing.T) {
	const conf = "/etc/nginx/nginx.conf"
	before := runOnHost(t, "web-01", "sha256sum "+conf+"; stat -c %y "+conf)

	run := deploy(t, "--limit", "web-01", "-e", "nginx_worker_connections=lots")
	if run.res.Code != 1 {
		t.Errorf("deploy with a broken template: %v; want exit 1", run)
	}
	var failed bool
	for _, ev := range run.events {
		if ev.Host == "web-01" && ev.Task == "nginx configuration" && ev.Status == "failed" {
			failed = true
			if !strings.Contains(ev.Msg, `invalid number "lots"`) {
				t.Errorf("the failure lacks nginx's own message: %q", ev.Msg)
			}
		}
	}
	if !failed {
		t.Errorf("no failed event for web-01's nginx configuration: %v", run.events)
	}

	if after := runOnHost(t, "web-01", "sha256sum "+conf+"; stat -c %y "+conf); after.Stdout != before.Stdout {
		t.Errorf("the live config changed:\nbefore %safter %s", before.Stdout, after.Stdout)
	}
	if r := runOnHost(t, "web-01", "systemctl is-active nginx && ls -a /etc/nginx | grep -c nginx.conf"); strings.TrimSpace(r.Stdout) != "active\n1" {
		t.Errorf("nginx state or leftover candidates on web-01: %q", r.Stdout)
	}
	// The site keeps answering: web-01 failed its rollout, so the rolling
	// deploy left it out of rotation, and web-02 serves every request.
	seq, err := servedBy(t, siteClient(t), 10)
	if err != nil || len(seq) != 10 {
		t.Errorf("site after the refused config: %v %v", seq, err)
	}
	// The next good deploy puts web-01 back: strict alternation again.
	if fix := deploy(t); fix.res.Code != 0 {
		t.Fatalf("deploy after the refused config: %v", fix)
	}
	// HAProxy's round robin may hand a server that just came back a few
	// requests in a row while it evens out: wait, bounded, for strict
	// alternation.
	deadline := time.Now().Add(10 * time.Second)
	for {
		seq, err = servedBy(t, siteClient(t), 10)
		if err == nil && alternates(seq) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("site after the repair: %v %v", seq, err)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
}
