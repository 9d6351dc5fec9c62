//go:build e2e

// Package e2e runs ferry against the real lab: the Debian hosts of
// lab/inventory.yml booted by `ferry lab up`. TestMain owns the lab's life
// (labtest.Main): it boots the lab, runs the tests in a child process, and
// always takes the lab down again, then fails the run if anything of the
// lab is left. Test files of this package use the helpers below: runFerry,
// runOnHost, mustOnHost, labHosts, hostAddress and repoRoot.
package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/lab"
	"github.com/ferry-deploy/ferry/lab/labtest"
)

// childEnv marks the child process that runs the tests; hostsEnv passes it
// the lab's hosts as name=address pairs.
const (
	childEnv = "FERRY_E2E_CHILD"
	hostsEnv = "FERRY_E2E_HOSTS"
)

func TestMain(m *testing.M) {
	labtest.Main(m, labtest.Suite{
		Name:     "e2e",
		ChildEnv: childEnv,
		CannotRun: func() string {
			if runtime.GOOS != "linux" || os.Geteuid() != 0 {
				return "the lab needs root on Linux"
			}
			return ""
		},
		Up:   upLab,
		Down: teardown,
	})
}

// upLab boots the lab and passes its hosts on to the tests.
//
// The tests need a freshly booted lab, whatever ran before: a lab left up
// (by `make demo`, with the stack and its firewall deployed, or by an
// earlier run that was killed) is taken down first, so that no test sees
// another run's state.
func upLab(sup *labtest.Supervisor) ([]string, error) {
	if _, err := os.Stat(filepath.Join(repoRoot, ".lab", "hosts")); err == nil {
		sup.Logf("a lab exists already (make demo?): taking it down to start from a fresh one")
		if err := teardown(); err != nil {
			return nil, err
		}
	}
	if err := sup.LabUp("lab", "up"); err != nil {
		return nil, err
	}
	hosts, err := statusHosts()
	if err != nil {
		return nil, err
	}
	var pairs []string
	for _, h := range hosts {
		pairs = append(pairs, h.Name+"="+h.Address)
	}
	return []string{hostsEnv + "=" + strings.Join(pairs, ",")}, nil
}

// teardown runs `ferry lab down` and then looks for anything the lab left.
func teardown() error {
	hosts, _ := statusHosts() // best effort: names for the leak check
	return errors.Join(labtest.LabDown(3*time.Minute, "lab", "down"), leftovers(hosts))
}

// leftovers lists whatever of the lab still exists after down.
func leftovers(hosts []labHost) error {
	var left []string
	state := filepath.Join(repoRoot, ".lab")
	names := map[string]bool{"db-01": true, "db-02": true, "web-01": true, "web-02": true, "lb-01": true, "lb-02": true, "monitor-01": true}
	for _, h := range hosts {
		names[h.Name] = true
	}
	for n := range names {
		if _, err := os.Stat(filepath.Join("/run/netns", n)); err == nil {
			left = append(left, "network namespace "+n)
		}
	}
	links, _ := os.ReadDir("/sys/class/net")
	for _, l := range links {
		if l.Name() == lab.BridgeName || strings.HasPrefix(l.Name(), "vf-") {
			left = append(left, "interface "+l.Name())
		}
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(mi), "\n") {
			f := strings.Fields(line)
			if len(f) > 4 && (strings.HasPrefix(f[4], state) || (strings.HasPrefix(f[4], "/run/netns/") && names[filepath.Base(f[4])])) {
				left = append(left, "mount "+f[4])
			}
		}
	}
	for _, p := range labtest.Processes() {
		line := p.Cmdline
		if strings.Contains(line, "systemd-nspawn") && strings.Contains(line, state) ||
			strings.Contains(line, "nginx") && strings.Contains(line, filepath.Join(state, "proxy")) {
			left = append(left, fmt.Sprintf("process %s: %s", p.PID, line))
		}
	}
	if ents, err := os.ReadDir(state); err == nil && len(ents) > 0 {
		var files []string
		for _, e := range ents {
			files = append(files, e.Name())
		}
		left = append(left, fmt.Sprintf("state files in %s: %s", state, strings.Join(files, ", ")))
	}
	if len(left) > 0 {
		return fmt.Errorf("lab down left:\n  %s", strings.Join(left, "\n  "))
	}
	return nil
}

// statusHosts reads the hosts and addresses from `ferry lab status`.
func statusHosts() ([]labHost, error) {
	cmd := exec.Command(ferryBin(), "lab", "status")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ferry lab status: %w", err)
	}
	var hosts []labHost
	for _, line := range strings.Split(string(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 3 && !strings.HasPrefix(f[0], "(") {
			hosts = append(hosts, labHost{Name: f[0], Address: f[1]})
		}
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("ferry lab status listed no hosts:\n%s", out)
	}
	return hosts, nil
}

// labHost is one lab host.
type labHost struct{ Name, Address string }

// labHosts returns the lab's hosts, in inventory order.
func labHosts() []labHost {
	var hosts []labHost
	for _, pair := range strings.Split(os.Getenv(hostsEnv), ",") {
		if name, addr, ok := strings.Cut(pair, "="); ok {
			hosts = append(hosts, labHost{Name: name, Address: addr})
		}
	}
	return hosts
}

// hostAddress returns a lab host's address, failing the test for an unknown
// host.
func hostAddress(t testing.TB, name string) string {
	t.Helper()
	for _, h := range labHosts() {
		if h.Name == name {
			return h.Address
		}
	}
	t.Fatalf("no lab host %q (lab: %v)", name, labHosts())
	return ""
}

// repoRoot is the repository's absolute path (the folder of go.mod).
var repoRoot = labtest.RepoRoot

// labInventory is the committed lab inventory.
func labInventory() string { return filepath.Join(repoRoot, "lab", "inventory.yml") }

// exampleRoles is the folder of the example roles (--roles-path).
var exampleRoles = filepath.Join(repoRoot, "examples", "roles")

// labGroupInventory is an inventory of lab hosts in one group that runs
// roles (a YAML flow list's items: "common, vhosts"), connecting as the
// committed lab inventory does: root with the lab key, host keys checked
// against the lab's known_hosts. vars, when not empty, is YAML put between
// the connection and the groups (a vars: or secrets: line); more groups may
// be appended to what it returns.
func labGroupInventory(t testing.TB, vars, group, roles string, hosts []string) string {
	t.Helper()
	state := filepath.Join(repoRoot, ".lab")
	var b strings.Builder
	fmt.Fprintf(&b, "connection: {user: root, private_key: %q, known_hosts: %q, timeout: 10s}\n",
		filepath.Join(state, "id_ed25519"), filepath.Join(state, "known_hosts"))
	b.WriteString(vars)
	fmt.Fprintf(&b, "groups:\n  %s:\n    roles: [%s]\n    hosts:\n", group, roles)
	for _, h := range hosts {
		fmt.Fprintf(&b, "      %s: {address: %s}\n", h, hostAddress(t, h))
	}
	return b.String()
}

// cleanupOnHosts runs script on each host after the test, as best it can:
// a failed cleanup must not hide the test's own result.
func cleanupOnHosts(t testing.TB, hosts []string, script string) {
	t.Cleanup(func() {
		for _, h := range hosts {
			runOnHost(t, h, script)
		}
	})
}

func ferryBin() string { return labtest.FerryBin() }

// cmdResult is what a command printed and how it exited.
type cmdResult = labtest.Result

// runFerry runs bin/ferry with args in the repository root.
func runFerry(t testing.TB, args ...string) cmdResult {
	t.Helper()
	return runCmd(t, repoRoot, ferryBin(), args...)
}

// runOnHost runs script with /bin/sh as root on a lab host, over ssh with
// the lab key and the host key checked strictly against the lab's
// known_hosts. The script goes in on stdin, so it needs no quoting.
func runOnHost(t testing.TB, host, script string) cmdResult {
	t.Helper()
	state := filepath.Join(repoRoot, ".lab")
	return runCmdInput(t, repoRoot, script, "ssh",
		"-i", filepath.Join(state, "id_ed25519"),
		"-o", "IdentitiesOnly=yes",
		"-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile="+filepath.Join(state, "known_hosts"),
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "ConnectTimeout=10",
		"root@"+hostAddress(t, host), "/bin/sh -s")
}

// mustOnHost is runOnHost that fails the test unless the script exits 0,
// and returns its trimmed stdout.
func mustOnHost(t testing.TB, host, script string) string {
	t.Helper()
	r := runOnHost(t, host, script)
	if r.Code != 0 {
		t.Fatalf("%s: %q exited %d\nstdout: %s\nstderr: %s", host, script, r.Code, r.Stdout, r.Stderr)
	}
	return strings.TrimSpace(r.Stdout)
}

func runCmd(t testing.TB, dir, name string, args ...string) cmdResult {
	t.Helper()
	return labtest.Run(t, dir, "", name, args...)
}

func runCmdInput(t testing.TB, dir, stdin, name string, args ...string) cmdResult {
	t.Helper()
	return labtest.Run(t, dir, stdin, name, args...)
}
