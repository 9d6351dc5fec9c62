//go:build e2e

package e2e

// The lab itself (issue 5): the hosts TestMain booted are real, reachable
// only as intended, and a second `lab up` changes nothing.

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nspawnPids reads every host's nspawn pid file.
func nspawnPids(t *testing.T) map[string]string {
	t.Helper()
	pids := map[string]string{}
	for _, h := range labHosts() {
		data, err := os.ReadFile(filepath.Join(repoRoot, ".lab", "hosts", h.Name, "nspawn.pid"))
		if err != nil {
			t.Fatalf("pid file of %s: %v", h.Name, err)
		}
		pids[h.Name] = strings.TrimSpace(string(data))
	}
	return pids
}

func TestLabSecondUpIsNoop(t *testing.T) {
	before := nspawnPids(t)
	r := runFerry(t, "lab", "up")
	if r.Code != 0 {
		t.Fatalf("second lab up exited %d: %s", r.Code, r.Stderr)
	}
	if strings.Contains(r.Stderr, "booting") || strings.Contains(r.Stderr, "debootstrap") {
		t.Errorf("second lab up did work:\n%s", r.Stderr)
	}
	for _, h := range labHosts() {
		if !strings.Contains(r.Stderr, h.Name+": already running") {
			t.Errorf("second lab up did not report %s as running:\n%s", h.Name, r.Stderr)
		}
	}
	after := nspawnPids(t)
	for name, pid := range before {
		if after[name] != pid {
			t.Errorf("%s: nspawn pid %s became %s: the host was restarted", name, pid, after[name])
		}
	}
}

func TestLabStatusListsEveryHostRunning(t *testing.T) {
	r := runFerry(t, "lab", "status")
	if r.Code != 0 {
		t.Fatalf("lab status exited %d: %s", r.Code, r.Stderr)
	}
	want := map[string]string{
		"db-01": "198.18.0.31", "db-02": "198.18.0.32", "web-01": "198.18.0.21",
		"web-02": "198.18.0.22", "lb-01": "198.18.0.11", "lb-02": "198.18.0.12", "monitor-01": "198.18.0.41",
	}
	got := map[string]string{}
	for _, line := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && want[f[0]] != "" {
			if f[2] != "running" {
				t.Errorf("%s is %s", f[0], f[2])
			}
			got[f[0]] = f[1]
		}
	}
	for name, addr := range want {
		if got[name] != addr {
			t.Errorf("status: %s at %q, want %s\n%s", name, got[name], addr, r.Stdout)
		}
	}
	if !strings.Contains(r.Stdout, "198.18.0.1:3142  running") {
		t.Errorf("status does not show the apt proxy running:\n%s", r.Stdout)
	}
}

func TestLabHostsAnswerSSHWithKnownKeys(t *testing.T) {
	known, err := os.ReadFile(filepath.Join(repoRoot, ".lab", "known_hosts"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(known)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("known_hosts line %q", line)
		}
		if other, dup := keys[f[2]]; dup {
			t.Errorf("%s and %s share a host key", other, f[0])
		}
		keys[f[2]] = f[0]
	}
	for _, h := range labHosts() {
		t.Run(h.Name, func(t *testing.T) {
			// runOnHost checks the key strictly against known_hosts.
			out := mustOnHost(t, h.Name, "hostname; systemctl is-system-running; ip -4 -o addr show eth0")
			lines := strings.Split(out, "\n")
			// Tests in other files may leave a failed unit behind ("degraded"),
			// and a load balancer may hold the floating address as well.
			if len(lines) < 3 || lines[0] != h.Name || (lines[1] != "running" && lines[1] != "degraded") || !strings.Contains(strings.Join(lines[2:], "\n"), " "+h.Address+"/24") {
				t.Errorf("host %s says:\n%s", h.Name, out)
			}
		})
	}
	// Without the lab's known_hosts the same login must fail: nothing is
	// trusted on first use.
	h := labHosts()[0]
	r := runCmd(t, repoRoot, "ssh", "-i", filepath.Join(repoRoot, ".lab", "id_ed25519"),
		"-o", "BatchMode=yes", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "root@"+h.Address, "true")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Host key verification failed") {
		t.Errorf("ssh without known_hosts: exit %d, %s", r.Code, r.Stderr)
	}
}

func TestLabSSHCommand(t *testing.T) {
	r := runFerry(t, "lab", "ssh", "web-02", "--", "hostname")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "web-02" {
		t.Errorf("ferry lab ssh web-02 -- hostname: exit %d, %q, %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := runFerry(t, "lab", "ssh", "nosuch"); r.Code != 3 {
		t.Errorf("ferry lab ssh nosuch: exit %d, want 3 (bad input)", r.Code)
	}
}

// TestLabAptThroughProxy installs GNU hello on two hosts: both through the
// proxy, the second from its cache, and purges it again.

func TestLabAptThroughProxy(t *testing.T) {
	accessLog := filepath.Join(repoRoot, ".lab", "proxy", "access.log")
	// GNU hello: a package no role installs, so that the test leaves the
	// hosts as the deploy tests expect them.
	for i, name := range []string{"web-01", "web-02"} {
		t.Cleanup(func() {
			mustOnHost(t, name, "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q hello >/dev/null")
		})
		mark, _ := os.Stat(accessLog)
		out := mustOnHost(t, name, `set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q hello >/dev/null
hello`)
		if out != "Hello, world!" {
			t.Fatalf("%s: hello says %q after install", name, out)
		}
		data, err := os.ReadFile(accessLog)
		if err != nil {
			t.Fatal(err)
		}
		if mark != nil {
			data = data[mark.Size():]
		}
		var debs, hits int
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, hostAddress(t, name)+" ") && strings.Contains(line, "/hello_") && strings.Contains(line, ".deb") {
				debs++
				if strings.HasSuffix(line, "cache=HIT") {
					hits++
				}
			}
		}
		if debs == 0 {
			t.Fatalf("%s: the proxy served no hello package; apt bypassed it?\n%s", name, data)
		}
		if i == 1 && hits != debs {
			t.Errorf("%s: %d of %d hello packages came from the cache, want all", name, hits, debs)
		}
	}
}

// TestLabHostsReachOnlyTheLab: peers and the proxy answer; the mirror the
// controller uses does not, because hosts have no route out.
func TestLabHostsReachOnlyTheLab(t *testing.T) {
	if out := mustOnHost(t, "web-01", "ip route show default"); out != "" {
		t.Errorf("web-01 has a default route: %s", out)
	}
	mustOnHost(t, "web-01", "bash -c 'exec 3<>/dev/tcp/198.18.0.31/22 && exec 3<>/dev/tcp/198.18.0.1/3142'")
	outside := []string{"203.0.113.80"} // TEST-NET-3: never a lab address
	if addrs, err := net.LookupHost("deb.debian.org"); err == nil {
		outside = append(outside, addrs...)
	}
	for _, addr := range outside {
		if strings.Contains(addr, ":") {
			continue
		}
		r := runOnHost(t, "web-01", "timeout 5 bash -c 'exec 3<>/dev/tcp/"+addr+"/80'")
		if r.Code == 0 {
			t.Errorf("web-01 reached %s:80 outside the lab", addr)
		}
	}
}

// TestLabClearPrerequisiteErrors: without root, or without the tools, lab up
// says what is wrong and how to fix it, and changes nothing.
func TestLabClearPrerequisiteErrors(t *testing.T) {
	r := runCmd(t, repoRoot, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ferryBin(), "lab", "up")
	if r.Code == 0 || !strings.Contains(r.Stderr, "needs root") {
		t.Errorf("lab up as nobody: exit %d, %s", r.Code, r.Stderr)
	}
	r = runCmd(t, repoRoot, "env", "PATH=/nonexistent", ferryBin(), "lab", "up")
	if r.Code == 0 || !strings.Contains(r.Stderr, "apt-get install -y debootstrap systemd-container iproute2 nginx-light openssh-client") {
		t.Errorf("lab up without tools: exit %d, %s", r.Code, r.Stderr)
	}
}
