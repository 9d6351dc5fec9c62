//go:build e2e

package e2e

// Issue 9: what ferry does when things go wrong on real hosts — a network
// cut mid-deploy, an SSH connection killed during an upload, a validator
// rejecting a candidate, a handler pending when the run stops, a full disk,
// a wrong sudo password, a changed host key. Each test uses its own small
// inventory and roles (in a temp dir) against lab hosts, so it does not
// depend on TestStack, and restores the lab in t.Cleanup.
//
// Helpers used from main_test.go: runFerry, runOnHost, mustOnHost,
// hostAddress, ferryBin, repoRoot, cmdResult, labGroupInventory.

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/lab/labtest"
)

// faultSite is an inventory of some lab hosts in one group "fault", with
// roles beside it.
type faultSite struct {
	t   *testing.T
	dir string
	inv string
}

// newFaultSite writes an inventory of hosts (lab names) in the group
// "fault" running roles, connecting as the lab does; extra is YAML put
// before the groups.
func newFaultSite(t *testing.T, roles string, hosts []string, extra string) *faultSite {
	t.Helper()
	return newSite(t, labGroupInventory(t, extra, "fault", roles, hosts))
}

// newSite writes inventory as inventory.yml in a folder of its own, where
// roles may be written beside it.
func newSite(t *testing.T, inventory string) *faultSite {
	t.Helper()
	s := &faultSite{t: t, dir: t.TempDir()}
	s.inv = s.write("inventory.yml", inventory)
	return s
}

func (s *faultSite) write(name, text string) string {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// role writes roles/NAME/role.yml and its templates beside the inventory.
func (s *faultSite) role(name, yml string, templates map[string]string) {
	s.write(filepath.Join("roles", name, "role.yml"), yml)
	for n, text := range templates {
		s.write(filepath.Join("roles", name, "templates", n), text)
	}
}

// faultRun is one deploy's output, decoded.
type faultRun struct {
	res    cmdResult
	events []map[string]any
	recap  map[string]any
}

func decodeRun(t *testing.T, res cmdResult) faultRun {
	t.Helper()
	r := faultRun{res: res}
	for _, m := range labtest.JSONLines[map[string]any](t, res.Stdout) {
		if m["event"] == "recap" {
			r.recap = m
		} else {
			r.events = append(r.events, m)
		}
	}
	if r.recap == nil {
		t.Fatalf("no recap (exit %d)\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	return r
}

// host returns a host's recap entry.
func (r faultRun) host(name string) map[string]any {
	h, _ := r.recap["hosts"].(map[string]any)
	m, _ := h[name].(map[string]any)
	return m
}

// text is everything the run printed, for message checks.
// text is the raw output followed by every event's decoded message, so
// that messages can be searched as the user reads them (JSON escapes the
// quotes nginx puts around a bad value).
func (r faultRun) text() string {
	var b strings.Builder
	b.WriteString(r.res.Stdout + r.res.Stderr)
	for _, ev := range r.events {
		if msg, ok := ev["msg"].(string); ok {
			b.WriteString("\n" + msg)
		}
	}
	return b.String()
}

func (s *faultSite) deploy(t *testing.T, args ...string) faultRun {
	t.Helper()
	return decodeRun(t, runFerry(t, append([]string{"deploy", "-i", s.inv, "-o", "json"}, args...)...))
}

// background is a ferry run in progress.
type background struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
	done        chan struct{}
	code        int
}

func (s *faultSite) start(t *testing.T, args ...string) *background {
	t.Helper()
	b := &background{done: make(chan struct{})}
	b.cmd = exec.Command(ferryBin(), append([]string{"deploy", "-i", s.inv, "-o", "json"}, args...)...)
	b.cmd.Dir = repoRoot
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.errOut
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b.cmd.Wait()
		b.code = b.cmd.ProcessState.ExitCode()
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			b.cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

// wait waits for the run to end and decodes it.
func (b *background) wait(t *testing.T, limit time.Duration) faultRun {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(limit):
		b.cmd.Process.Kill()
		<-b.done
		t.Fatalf("ferry did not end within %v\nstdout: %s\nstderr: %s", limit, b.out.String(), b.errOut.String())
	}
	return decodeRun(t, cmdResult{Stdout: b.out.String(), Stderr: b.errOut.String(), Code: b.code})
}

// waitUntil polls cond until it holds or limit passes.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// onHostOK reports whether script exits 0 on host.
func onHostOK(t *testing.T, host, script string) bool {
	t.Helper()
	return runOnHost(t, host, script).Code == 0
}

// vethOf is the controller-side end of a lab host's veth pair (lab/spec.go
// vethName: "vf-" + name, for names up to 12 bytes).
func vethOf(host string) string { return "vf-" + host }

// --- network cut mid-deploy ----------------------------------------------

// TestFaultNetworkCut cuts web-02's link while its deploy runs: web-02 is
// reported unreachable, the run exits 2, web-01 and db-01 complete; with
// the link back, a re-run converges.
func TestFaultNetworkCut(t *testing.T) {
	hosts := []string{"web-01", "web-02", "db-01"}
	s := newFaultSite(t, "cut", hosts, "")
	s.role("cut", `tasks:
  - name: dir
    file: {path: /srv/fault-cut, state: directory}
  - name: started
    shell: {cmd: "touch /srv/fault-cut/started; sleep 5", creates: /srv/fault-cut/done}
  - name: done
    copy: {content: "done\n", dest: /srv/fault-cut/done}
`, nil)
	veth := vethOf("web-02")
	t.Cleanup(func() {
		exec.Command("ip", "link", "set", veth, "up").Run()
		waitUntil(t, time.Minute, "web-02 back", func() bool { return onHostOK(t, "web-02", "true") })
		for _, h := range hosts {
			runOnHost(t, h, "rm -rf /srv/fault-cut")
		}
	})
	run := s.start(t)
	waitUntil(t, 2*time.Minute, "web-02 to start its long task", func() bool {
		return onHostOK(t, "web-02", "test -e /srv/fault-cut/started")
	})
	if out, err := exec.Command("ip", "link", "set", veth, "down").CombinedOutput(); err != nil {
		t.Fatalf("ip link set %s down: %v: %s", veth, err, out)
	}
	// Keepalives: 15 s interval, lost after three unanswered.
	r := run.wait(t, 3*time.Minute)
	if r.res.Code != 2 {
		t.Errorf("exit %d, want 2\n%s", r.res.Code, r.text())
	}
	if r.host("web-02")["unreachable"] != true {
		t.Errorf("web-02 not unreachable in the recap: %v", r.recap)
	}
	for _, h := range []string{"web-01", "db-01"} {
		if st := r.host(h); st["unreachable"] != false || st["failed"] != 0.0 {
			t.Errorf("%s: %v", h, st)
		}
		if !onHostOK(t, h, "test -e /srv/fault-cut/done") {
			t.Errorf("%s did not complete", h)
		}
	}
	if out, err := exec.Command("ip", "link", "set", veth, "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set %s up: %v: %s", veth, err, out)
	}
	waitUntil(t, time.Minute, "web-02 reachable again", func() bool { return onHostOK(t, "web-02", "true") })
	again := s.deploy(t)
	if again.res.Code != 0 || again.host("web-02")["changed"] == 0.0 {
		t.Errorf("re-run after the cut: exit %d, web-02 %v\n%s", again.res.Code, again.host("web-02"), again.text())
	}
	if r := s.deploy(t, "--check", "--detailed-exitcode"); r.res.Code != 0 {
		t.Errorf("not converged after the re-run: exit %d", r.res.Code)
	}
}

// --- SSH connection killed during an upload --------------------------------

// TestFaultUploadConnectionKilled kills the sshd process serving ferry's
// SFTP while a large file is on its way: the target is the old file, never
// a partial one, and no temp file is left.
func TestFaultUploadConnectionKilled(t *testing.T) {
	s := newFaultSite(t, "big", []string{"web-01"}, "")
	s.role("big", `defaults: {size: 1}
tasks:
  - name: dir
    file: {path: /srv/fault-upload, state: directory}
  - name: big file
    copy: {content: "{{ repeat (int .size) \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\\n\" }}", dest: /srv/fault-upload/big.dat}
`, nil)
	t.Cleanup(func() { runOnHost(t, "web-01", "rm -rf /srv/fault-upload") })
	if r := s.deploy(t); r.res.Code != 0 {
		t.Fatalf("first (small) run: exit %d\n%s", r.res.Code, r.text())
	}
	old := mustOnHost(t, "web-01", "sha256sum < /srv/fault-upload/big.dat")
	// 16 MiB through a link shaped to 20 Mbit/s: several seconds on the
	// wire, long enough to be caught mid-transfer.
	veth := vethOf("web-01")
	if out, err := exec.Command("tc", "qdisc", "replace", "dev", veth, "root", "tbf", "rate", "20mbit", "burst", "64kb", "latency", "400ms").CombinedOutput(); err != nil {
		t.Fatalf("shape %s: %v: %s", veth, err, out)
	}
	t.Cleanup(func() { exec.Command("tc", "qdisc", "del", "dev", veth, "root").Run() })
	run := s.start(t, "-e", "size=262144")
	waitUntil(t, 2*time.Minute, "the upload's temp file", func() bool {
		return onHostOK(t, "web-01", "ls -a /srv/fault-upload | grep -q ferry-tmp")
	})
	// The sshd process that is the parent of sftp-server is ferry's
	// connection; killing it cuts the connection mid-upload.
	mustOnHost(t, "web-01", `p=$(ps -o ppid= -C sftp-server | head -n1); test -n "$p" && kill -9 $p`)
	r := run.wait(t, 3*time.Minute)
	if r.res.Code == 0 {
		t.Errorf("run with a killed connection exited 0")
	}
	if got := mustOnHost(t, "web-01", "sha256sum < /srv/fault-upload/big.dat"); got != old {
		size := mustOnHost(t, "web-01", "stat -c %s /srv/fault-upload/big.dat")
		if size != strconv.Itoa(262144*64) {
			t.Errorf("target is neither old nor new: %s bytes", size)
		}
	}
	// Cleanup reconnects to remove the temp file.
	if left := runOnHost(t, "web-01", "ls -a /srv/fault-upload | grep ferry-tmp"); left.Code == 0 {
		t.Errorf("temp files left: %s", left.Stdout)
	}
	exec.Command("tc", "qdisc", "del", "dev", veth, "root").Run()
	if r := s.deploy(t, "-e", "size=262144"); r.res.Code != 0 {
		t.Errorf("re-run after the cut: exit %d\n%s", r.res.Code, r.text())
	}
}

// --- validator rejects a candidate -----------------------------------------

// faultNginxRole installs nginx with a ferry-owned nginx.conf validated by
// nginx itself; nginx_workers lets a test make the candidate invalid.
const faultNginxRole = `defaults: {nginx_workers: 64}
tasks:
  - name: nginx installed
    package: {names: [nginx]}
  - name: page
    copy: {content: "fault-ok\n", dest: /var/www/fault/index.html}
  - name: config
    template: {src: nginx.conf.tmpl, dest: /etc/nginx/nginx.conf, mode: "0644", validate: "nginx -q -t -c %s"}
    notify: reload nginx
  - name: nginx running
    service: {name: nginx, state: started}
handlers:
  - name: reload nginx
    service: {name: nginx, state: reloaded}
`

const faultNginxConf = `events { worker_connections {{ .nginx_workers }}; }
http {
  server {
    listen 8099;
    root /var/www/fault;
  }
}
`

// TestFaultValidatorRejects: a candidate nginx.conf that nginx -t refuses
// is never installed; the old config stays live, nginx keeps serving, and
// nginx's own message is shown.
func TestFaultValidatorRejects(t *testing.T) {
	s := newFaultSite(t, "fnginx", []string{"web-01"}, "")
	s.role("fnginx", faultNginxRole, map[string]string{"nginx.conf.tmpl": faultNginxConf})
	t.Cleanup(func() {
		runOnHost(t, "web-01", "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q nginx nginx-common >/dev/null; rm -rf /etc/nginx /var/www/fault")
	})
	runOnHost(t, "web-01", "mkdir -p /var/www/fault")
	// The test reaches nginx on 8099 from the controller.
	openPort(t, "web-01", 8099)
	if r := s.deploy(t); r.res.Code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.res.Code, r.text())
	}
	before := mustOnHost(t, "web-01", "sha256sum /etc/nginx/nginx.conf; systemctl show -p MainPID nginx")
	r := s.deploy(t, "-e", "nginx_workers=lots")
	if r.res.Code != 1 {
		t.Errorf("exit %d, want 1\n%s", r.res.Code, r.text())
	}
	if !strings.Contains(r.text(), `invalid number "lots"`) {
		t.Errorf("nginx's message is not shown:\n%s", r.text())
	}
	if !strings.Contains(r.text(), "the live file is unchanged") {
		t.Errorf("the output does not say the live file is unchanged:\n%s", r.text())
	}
	if after := mustOnHost(t, "web-01", "sha256sum /etc/nginx/nginx.conf; systemctl show -p MainPID nginx"); after != before {
		t.Errorf("config or nginx changed:\nbefore %s\nafter  %s", before, after)
	}
	if out := mustOnHost(t, "web-01", "ls -a /etc/nginx"); strings.Contains(out, "ferry-tmp") {
		t.Errorf("candidate left in /etc/nginx: %s", out)
	}
	resp, err := http.Get("http://" + hostAddress(t, "web-01") + ":8099/")
	if err != nil {
		t.Fatalf("nginx stopped serving: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("nginx answers %d", resp.StatusCode)
	}
}

// --- handler pending when the run stops ------------------------------------

// pendingRole changes a config that notifies a handler, then runs a task
// that fails (fail=true) or takes long (the interrupt case).
const pendingRole = `defaults: {fail: false, version: 1}
tasks:
  - name: dir
    file: {path: /srv/fault-handler, state: directory}
  - name: config
    copy: {content: "version {{ .version }}\n", dest: /srv/fault-handler/app.conf}
    notify: reload app
  - name: later task fails
    shell: {cmd: "exit 1"}
    when: .fail
  - name: later task takes long
    shell: {cmd: "touch /srv/fault-handler/long; sleep 60"}
    when: 'not .fail'
    tags: [long]
handlers:
  - name: reload app
    shell: {cmd: "cp /srv/fault-handler/app.conf /srv/fault-handler/loaded"}
`

// TestFaultHandlerPending: a handler notified before a later task failed
// or the run was interrupted still runs — in the same run after a failure
// (handlers are flushed for the tasks that did change), and in the next
// run after an interrupt, because the pending notification is kept on the
// host (pending handlers persisted on the host, see doc/guarantees.md).
func TestFaultHandlerPending(t *testing.T) {
	s := newFaultSite(t, "pending", []string{"web-01"}, "")
	handlerPending(t, s)
}

// TestFaultHandlerPendingWithBecome is TestFaultHandlerPending for a user
// who logs in unprivileged and becomes root with sudo: the pending list
// is written as root in a folder only root may read, so the next run must
// read it as root too (it read it as the login user, found nothing and
// never ran the handler).
func TestFaultHandlerPendingWithBecome(t *testing.T) {
	const user = "ferrydeploy"
	sudoUser(t, "web-01", user, "echo '"+user+" ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/"+user, "rm -f /etc/sudoers.d/"+user)
	s := newFaultSite(t, "pending", []string{"web-01"}, "")
	s.connectAs(user + ", become: true")
	handlerPending(t, s)
}

// sudoUser makes user on host, who logs in with the lab's key and may use
// sudo as setup (shell, run as root once the user exists) says; when the
// test ends the user goes, with what undo (shell) names, and sudo itself
// if the host had none.
func sudoUser(t *testing.T, host, user, setup, undo string) {
	t.Helper()
	hadSudo := onHostOK(t, host, "command -v sudo")
	mustOnHost(t, host, `set -e
command -v sudo >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo >/dev/null
id `+user+` >/dev/null 2>&1 || useradd -m -s /bin/sh `+user+`
`+setup+`
install -d -m 700 -o `+user+` -g `+user+` /home/`+user+`/.ssh
install -m 600 -o `+user+` -g `+user+` /root/.ssh/authorized_keys /home/`+user+`/.ssh/authorized_keys`)
	t.Cleanup(func() {
		script := "userdel -r " + user + " 2>/dev/null; " + undo
		if !hadSudo {
			script += "; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sudo >/dev/null"
		}
		runOnHost(t, host, script)
	})
}

// connectAs makes the site's inventory log in as conn (a user, and what
// follows it in the connection's flow mapping) instead of root.
func (s *faultSite) connectAs(conn string) {
	s.t.Helper()
	inv, err := os.ReadFile(s.inv)
	if err != nil {
		s.t.Fatal(err)
	}
	as := strings.Replace(string(inv), "user: root,", "user: "+conn+",", 1)
	if as == string(inv) {
		s.t.Fatalf("the site's inventory logs in as no user to replace:\n%s", inv)
	}
	s.write("inventory.yml", as)
}

// handlerPending is the scenario of TestFaultHandlerPending on web-01.
func handlerPending(t *testing.T, s *faultSite) {
	s.role("pending", pendingRole, nil)
	t.Cleanup(func() { runOnHost(t, "web-01", "rm -rf /srv/fault-handler /var/lib/ferry/pending") })
	loaded := func() string {
		return runOnHost(t, "web-01", "cat /srv/fault-handler/loaded 2>/dev/null").Stdout
	}
	// A later task fails: the handler still runs in this run.
	r := s.deploy(t, "-e", "fail=true", "-e", "version=2")
	if r.res.Code != 1 {
		t.Errorf("failing run: exit %d, want 1", r.res.Code)
	}
	if got := loaded(); got != "version 2\n" {
		t.Errorf("after a later failure the handler did not run: loaded %q", got)
	}
	// Interrupted while a later task runs: the handler cannot run now; the
	// next run, which finds the config already right, must still run it.
	run := s.start(t, "-e", "version=3")
	waitUntil(t, 2*time.Minute, "the long task", func() bool { return onHostOK(t, "web-01", "test -e /srv/fault-handler/long") })
	run.cmd.Process.Signal(syscall.SIGINT)
	ri := run.wait(t, time.Minute)
	if ri.res.Code == 0 || ri.recap["interrupted"] != true {
		t.Errorf("interrupted run: exit %d, recap %v", ri.res.Code, ri.recap)
	}
	if got := loaded(); got != "version 2\n" {
		t.Fatalf("handler ran despite the interrupt? loaded %q", got)
	}
	next := s.deploy(t, "-e", "version=3", "--skip-tags", "long")
	if got := loaded(); got != "version 3\n" {
		t.Errorf("the next run did not run the handler left pending by the interrupt: loaded %q\n%s", got, next.text())
	}
}

// --- disk full ---------------------------------------------------------------

// TestFaultDiskFull mounts a 256 KiB tmpfs over the target folder: a 1 MiB
// file cannot land. The error says so, the old file stays whole, no temp
// file is left.
func TestFaultDiskFull(t *testing.T) {
	s := newFaultSite(t, "full", []string{"web-02"}, "")
	s.role("full", `defaults: {size: 1}
tasks:
  - name: file
    copy: {content: "{{ repeat (int .size) \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\\n\" }}", dest: /srv/fault-full/data}
`, nil)
	mustOnHost(t, "web-02", "mkdir -p /srv/fault-full && mount -t tmpfs -o size=256k tmpfs /srv/fault-full")
	t.Cleanup(func() { runOnHost(t, "web-02", "umount /srv/fault-full; rm -rf /srv/fault-full") })
	if r := s.deploy(t); r.res.Code != 0 {
		t.Fatalf("small first run: exit %d\n%s", r.res.Code, r.text())
	}
	old := mustOnHost(t, "web-02", "sha256sum < /srv/fault-full/data")
	r := s.deploy(t, "-e", "size=16384") // 1 MiB
	if r.res.Code != 1 {
		t.Errorf("exit %d, want 1\n%s", r.res.Code, r.text())
	}
	if txt := strings.ToLower(r.text()); !strings.Contains(txt, "no space left") && !strings.Contains(txt, "disk full") {
		t.Errorf("the error does not say the disk is full:\n%s", r.text())
	}
	if got := mustOnHost(t, "web-02", "sha256sum < /srv/fault-full/data"); got != old {
		t.Errorf("the old file was changed by a failed upload")
	}
	if out := mustOnHost(t, "web-02", "ls -a /srv/fault-full"); strings.Contains(out, "ferry-tmp") {
		t.Errorf("temp file left on the full disk: %s", out)
	}
}

// --- wrong sudo password --------------------------------------------------------

// TestFaultWrongSudoPassword logs in as an unprivileged user whose sudo
// needs a password, with the wrong one in the secrets: the error names the
// sudo password, and sudo logged one failed attempt, not a retry per task.
func TestFaultWrongSudoPassword(t *testing.T) {
	const user = "ferryop"
	sudoUser(t, "db-02", user, "echo '"+user+":right-password-1' | chpasswd\nusermod -aG sudo "+user, "rm -f /var/lib/sudo/lectured/"+user)
	s := newFaultSite(t, "needroot", []string{"db-02"}, "secrets: secrets.yml\n")
	s.write("secrets.yml", "sudo_pw: wrong-password-2\n")
	// Connect as the user with become and the (wrong) sudo password.
	s.connectAs(user + ", become: true, become_password: sudo_pw")
	s.role("needroot", `tasks:
  - name: one
    copy: {content: "1\n", dest: /srv/fault-sudo-1}
  - name: two
    copy: {content: "2\n", dest: /srv/fault-sudo-2}
  - name: three
    shell: {cmd: "id -u > /srv/fault-sudo-3"}
`, nil)
	since := mustOnHost(t, "db-02", "date +%s")
	r := s.deploy(t)
	if r.res.Code == 0 {
		t.Fatalf("deploy with a wrong sudo password exited 0")
	}
	if txt := strings.ToLower(r.text()); !strings.Contains(txt, "sudo") || !strings.Contains(txt, "password") {
		t.Errorf("the error does not name the sudo password:\n%s", r.text())
	}
	if strings.Contains(r.text(), "wrong-password-2") {
		t.Errorf("the password is in the output")
	}
	if onHostOK(t, "db-02", "ls /srv/fault-sudo-* >/dev/null 2>&1") {
		t.Errorf("files written without root")
		runOnHost(t, "db-02", "rm -f /srv/fault-sudo-*")
	}
	// sudo logs each failed authentication; one connection must not try
	// the wrong password once per task.
	fails := mustOnHost(t, "db-02", "journalctl -q --since @"+since+" _COMM=sudo | grep -c 'incorrect password' || true")
	if n, _ := strconv.Atoi(fails); n > 1 {
		t.Errorf("sudo logged %d failed authentications for one deploy, want at most 1", n)
	}
}

// --- host key changed ------------------------------------------------------------

// TestFaultHostKeyChanged gives lb-02 new host keys: ferry refuses to
// connect, says what changed and how to fix it, and runs nothing there.
func TestFaultHostKeyChanged(t *testing.T) {
	s := newFaultSite(t, "mark", []string{"lb-01", "lb-02"}, "")
	s.role("mark", `tasks:
  - name: mark
    copy: {content: "x\n", dest: /srv/fault-hostkey}
`, nil)
	mustOnHost(t, "lb-02", `set -e
mkdir -p /root/ferry-hostkeys-saved
cp -a /etc/ssh/ssh_host_* /root/ferry-hostkeys-saved/
rm -f /etc/ssh/ssh_host_*
ssh-keygen -A >/dev/null
systemctl restart ssh`)
	t.Cleanup(func() {
		// runOnHost checks host keys strictly, so the restore goes in
		// without that check (still with the lab key).
		insecureOnHost(t, "lb-02", `cp -a /root/ferry-hostkeys-saved/ssh_host_* /etc/ssh/ && rm -rf /root/ferry-hostkeys-saved /srv/fault-hostkey && systemctl restart ssh`)
		waitUntil(t, 30*time.Second, "lb-02 with its own keys", func() bool { return onHostOK(t, "lb-02", "true") })
		runOnHost(t, "lb-01", "rm -f /srv/fault-hostkey")
	})
	r := s.deploy(t)
	if r.res.Code != 2 {
		t.Errorf("exit %d, want 2\n%s", r.res.Code, r.text())
	}
	txt := r.text()
	for _, want := range []string{"HOST KEY", "CHANGED", "ssh-keygen -R"} {
		if !strings.Contains(txt, want) {
			t.Errorf("output lacks %q:\n%s", want, txt)
		}
	}
	if r.host("lb-01")["changed"] != 1.0 {
		t.Errorf("lb-01 did not complete: %v", r.host("lb-01"))
	}
	if insecureOnHost(t, "lb-02", "test -e /srv/fault-hostkey").Code == 0 {
		t.Error("ferry wrote to a host whose key changed")
	}
	if r := s.deploy(t, "--accept-new-host-keys"); r.res.Code != 2 {
		t.Errorf("--accept-new-host-keys accepted a changed key: exit %d", r.res.Code)
	}
}

// insecureOnHost runs script as root on a host without checking its host
// key: only for restoring a host whose key a test changed.
func insecureOnHost(t *testing.T, host, script string) cmdResult {
	t.Helper()
	return runCmdInput(t, repoRoot, script, "ssh",
		"-i", filepath.Join(repoRoot, ".lab", "id_ed25519"),
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=no", "-o", "ConnectTimeout=10",
		"root@"+hostAddress(t, host), "/bin/sh -s")
}

// openPort lets the controller reach port on host when a firewall deployed
// by an earlier test (the stack's ufw) is active, and closes it again after
// the test.
func openPort(t *testing.T, host string, port int) {
	t.Helper()
	if !onHostOK(t, host, "command -v ufw >/dev/null && ufw status | grep -q 'Status: active'") {
		return
	}
	rule := fmt.Sprintf("%d/tcp", port)
	mustOnHost(t, host, "ufw insert 1 allow "+rule+" >/dev/null")
	t.Cleanup(func() { runOnHost(t, host, "ufw delete allow "+rule+" >/dev/null") })
}
