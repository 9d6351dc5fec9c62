//go:build e2e

// Package vagrant runs ferry against real Vagrant VMs: the web server and
// load balancer of lab/vagrant/inventory.yml, booted by `ferry lab up
// --provider vagrant` (libvirt; KVM where it works, qemu emulation where
// not). TestMain owns the VMs' life: it boots them, runs the tests in a
// child process, and always takes the lab down again, then fails the run if
// anything the lab made is left: a domain, the network, the pool, the
// bridge, an iptables chain, a daemon, the proxy, a changed qemu.conf or a
// state file.
package vagrant

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/lab"
	"github.com/ferry-deploy/ferry/lab/labtest"
)

const childEnv = "FERRY_E2E_VAGRANT_CHILD"

// inventory is the committed Vagrant lab, relative to the repository root.
const inventory = "lab/vagrant/inventory.yml"

func TestMain(m *testing.M) {
	labtest.Main(m, labtest.Suite{
		Name:      "e2e vagrant",
		ChildEnv:  childEnv,
		CannotRun: cannotRunVMs,
		Prepare:   prepare,
		Up:        upVMs,
		Down:      func() error { return teardown(snapshot) },
	})
}

// cannotRunVMs says why this machine cannot run the Vagrant lab at all;
// missing packages are not such a reason (they fail the run, with the line
// that installs them).
func cannotRunVMs() string {
	switch {
	case runtime.GOOS != "linux":
		return "the Vagrant lab's libvirt side needs Linux"
	case runtime.GOARCH != "amd64":
		return "the lab's box and qemu-system-x86_64 are amd64; this is " + runtime.GOARCH
	case os.Geteuid() != 0:
		return "the Vagrant lab needs root (libvirt's system network and pool)"
	}
	return ""
}

// before is what the system had before the lab: down must leave exactly
// that.
type before struct {
	chains   map[string]bool
	daemons  map[string]bool
	qemuConf []byte
}

// snapshot is what the system had before this run's lab.
var snapshot before

// prepare fails the run when a program the lab needs is missing, and
// takes the snapshot.
func prepare() error {
	var missing []string
	for _, bin := range []string{"vagrant", "virsh", "libvirtd", "qemu-system-x86_64", "qemu-img", "dnsmasq", "iptables"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s; install with: %s", strings.Join(missing, ", "), lab.VagrantAptInstallHint)
	}
	snapshot = before{chains: set(lab.LibvirtChains(context.Background())), daemons: set(daemons())}
	snapshot.qemuConf, _ = os.ReadFile("/etc/libvirt/qemu.conf")
	return nil
}

// upVMs boots the VMs; the tests need nothing in their environment.
func upVMs(sup *labtest.Supervisor) ([]string, error) {
	// --box local: the e2e suite never downloads; the box is built from
	// the lab's base and Debian packages, or reused from the cache.
	return nil, sup.LabUp("lab", "up", "--provider", "vagrant", "-i", inventory, "--box", "local")
}

func teardown(b before) error {
	return errors.Join(labtest.LabDown(5*time.Minute, "lab", "down", "--provider", "vagrant", "-i", inventory), leftovers(b))
}

// leftovers lists whatever of the lab exists after down that did not before.
func leftovers(b before) error {
	var left []string
	ctx := context.Background()
	if _, err := os.Stat(filepath.Join("/sys/class/net", lab.VMBridgeName)); err == nil {
		left = append(left, "bridge "+lab.VMBridgeName)
	}
	for _, c := range lab.LibvirtChains(ctx) {
		if !b.chains[c] {
			left = append(left, "iptables chain "+c)
		}
	}
	for _, d := range daemons() {
		if !b.daemons[d] {
			left = append(left, "daemon "+d)
		}
	}
	if conf, _ := os.ReadFile("/etc/libvirt/qemu.conf"); !bytes.Equal(conf, b.qemuConf) {
		left = append(left, "/etc/libvirt/qemu.conf differs from before the lab")
	}
	// With libvirtd still running (it was before the lab), ask it too.
	if b.daemons["libvirtd"] {
		if out, err := exec.Command("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name").Output(); err == nil {
			for _, d := range strings.Fields(string(out)) {
				if strings.HasPrefix(d, "ferry-lab-") {
					left = append(left, "domain "+d)
				}
			}
		}
		if exec.Command("virsh", "-q", "-c", "qemu:///system", "net-info", lab.VMNetworkName).Run() == nil {
			left = append(left, "network "+lab.VMNetworkName)
		}
		if exec.Command("virsh", "-q", "-c", "qemu:///system", "pool-info", lab.VMPoolName).Run() == nil {
			left = append(left, "pool "+lab.VMPoolName)
		}
	}
	// Definitions persist on disk even with libvirtd stopped.
	for _, f := range []string{"/etc/libvirt/qemu/networks/" + lab.VMNetworkName + ".xml", "/etc/libvirt/storage/" + lab.VMPoolName + ".xml"} {
		if _, err := os.Stat(f); err == nil {
			left = append(left, "libvirt definition "+f)
		}
	}
	if doms, _ := filepath.Glob("/etc/libvirt/qemu/ferry-lab-*.xml"); len(doms) > 0 {
		left = append(left, "domain definitions "+strings.Join(doms, ", "))
	}
	state := filepath.Join(repoRoot, ".lab-vagrant")
	for _, p := range labtest.Processes() {
		line := p.Cmdline
		if strings.Contains(line, "qemu-system") && strings.Contains(line, "ferry-lab-") ||
			strings.Contains(line, "dnsmasq") && strings.Contains(line, lab.VMNetworkName) ||
			strings.Contains(line, "nginx") && strings.Contains(line, state) {
			left = append(left, fmt.Sprintf("process %s: %s", p.PID, line))
		}
	}
	if ents, err := os.ReadDir(state); err == nil {
		var files []string
		for _, e := range ents {
			files = append(files, e.Name())
		}
		left = append(left, fmt.Sprintf("state folder %s (%s)", state, strings.Join(files, ", ")))
	}
	if len(left) > 0 {
		sort.Strings(left)
		return fmt.Errorf("lab down left:\n  %s", strings.Join(left, "\n  "))
	}
	return nil
}

// daemons lists the libvirt daemons running now, by program name.
func daemons() []string {
	var out []string
	for _, p := range labtest.Processes() {
		if name := p.Program; name == "libvirtd" || name == "virtlogd" || name == "virtqemud" || name == "virtnetworkd" {
			out = append(out, name)
		}
	}
	return out
}

func set(list []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

var repoRoot = labtest.RepoRoot

func ferryBin() string { return labtest.FerryBin() }

// runFerry runs bin/ferry with args in the repository root.
func runFerry(t testing.TB, args ...string) labtest.Result {
	t.Helper()
	return labtest.Run(t, repoRoot, "", ferryBin(), args...)
}
