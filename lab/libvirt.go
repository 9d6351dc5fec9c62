package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The Vagrant lab's libvirt side: its own isolated network on 198.18.1.0/24
// (beside the nspawn lab's 198.18.0.0/24, so both can run at once) and its
// own storage pool. Both are made by ferry, not by vagrant-libvirt, because
// vagrant-libvirt 0.11 cannot name the bridge of a network it creates.
const (
	// VMNetworkName is the libvirt network of the lab's VMs.
	VMNetworkName = "ferry-vm"
	// VMBridgeName is that network's bridge on the controller.
	VMBridgeName = "br-ferry-vm"
	// VMPoolName is the libvirt storage pool holding the VMs' disks.
	VMPoolName = "ferry-vm"
	// libvirtURI is the system libvirt: the network needs root anyway.
	libvirtURI = "qemu:///system"
	// qemuConfPath is read by libvirtd when it starts.
	qemuConfPath = "/etc/libvirt/qemu.conf"
)

var (
	// VMNetwork is the only range the Vagrant lab's hosts may use.
	VMNetwork = netip.MustParsePrefix("198.18.1.0/24")
	// VMGateway is the controller's address on the VM network; the VMs'
	// apt proxy listens there.
	VMGateway = netip.MustParseAddr("198.18.1.1")
)

// vmMAC is a host's fixed MAC, derived from its address so that the VM
// network's DHCP server hands each VM the address of the inventory.
func vmMAC(address string) (string, error) {
	a, err := netip.ParseAddr(address)
	if err != nil || !a.Is4() {
		return "", fmt.Errorf("vm address %q: want IPv4", address)
	}
	b := a.As4()
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", b[1], b[2], b[3]), nil
}

// virsh runs one virsh command against the system libvirt.
func virsh(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "virsh", append([]string{"-q", "-c", libvirtURI}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("virsh %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// libvirtRecord is what up started or changed on the system, so that down
// undoes exactly that and nothing a user had before.
type libvirtRecord struct {
	// Started is set when libvirtd and virtlogd were started by ferry
	// (no service manager ran them).
	Started bool `json:"started"`
	// QemuConf is set when qemu.conf was changed; the original is saved
	// beside the record.
	QemuConf bool `json:"qemu_conf"`
	// Chains lists the iptables chains that existed before libvirtd
	// started; down removes the LIBVIRT_ chains not in it.
	Chains []string `json:"chains"`
}

func (s Spec) libvirtDir() string  { return filepath.Join(s.StateDir, "libvirt") }
func (s Spec) libvirtFile() string { return filepath.Join(s.libvirtDir(), "record.json") }

func (s Spec) readLibvirtRecord() (libvirtRecord, bool) {
	var rec libvirtRecord
	data, err := os.ReadFile(s.libvirtFile())
	if err != nil || json.Unmarshal(data, &rec) != nil {
		return rec, false
	}
	return rec, true
}

// libvirtAnswers reports whether the system libvirt takes calls.
func libvirtAnswers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "virsh", "-q", "-c", libvirtURI, "version").Run() == nil
}

// ensureLibvirt makes the system libvirt answer. Where a service manager
// runs it already, nothing changes. Otherwise (a container or microVM with
// no systemd as PID 1) ferry starts virtlogd and libvirtd itself, first
// setting qemu to run as root: libvirt otherwise re-probes qemu on every
// call when /dev/kvm exists but its qemu user cannot use it, and each VM
// definition then takes most of a minute.
func (s Spec) ensureLibvirt(ctx context.Context) error {
	if libvirtAnswers(ctx) {
		return nil
	}
	for _, bin := range []string{"libvirtd", "virtlogd", "virsh"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("the vagrant lab needs %s; install with: %s", bin, VagrantAptInstallHint)
		}
	}
	if err := os.MkdirAll(s.libvirtDir(), 0o700); err != nil {
		return fmt.Errorf("libvirt state: %w", err)
	}
	rec, _ := s.readLibvirtRecord()
	if !rec.Started {
		rec = libvirtRecord{Started: true, Chains: iptablesChains(ctx)}
	}
	if !rec.QemuConf {
		orig, err := os.ReadFile(qemuConfPath)
		if err != nil {
			return fmt.Errorf("libvirt: %w", err)
		}
		if err := writeFileAtomic(filepath.Join(s.libvirtDir(), "qemu.conf.orig"), orig, 0o600); err != nil {
			return err
		}
		rec.QemuConf = true
		// Recorded before the change, so down restores even after a crash.
		if err := s.writeLibvirtRecord(rec); err != nil {
			return err
		}
		conf := append(bytes.TrimRight(orig, "\n"), []byte("\n# ferry lab (restored by `ferry lab down --provider vagrant`)\nuser = \"root\"\ngroup = \"root\"\n")...)
		if err := writeFileAtomic(qemuConfPath, conf, 0o600); err != nil {
			return err
		}
	}
	if err := s.writeLibvirtRecord(rec); err != nil {
		return err
	}
	s.logf("libvirt: starting virtlogd and libvirtd (no service manager runs them)")
	for _, d := range []string{"virtlogd", "libvirtd"} {
		if err := run(ctx, d, "-d"); err != nil {
			return fmt.Errorf("start %s: %w", d, err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for !libvirtAnswers(ctx) {
		if time.Now().After(deadline) {
			return fmt.Errorf("libvirtd started but %s does not answer after 60s", libvirtURI)
		}
		time.Sleep(300 * time.Millisecond)
	}
	return nil
}

func (s Spec) writeLibvirtRecord(rec libvirtRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.libvirtFile(), append(data, '\n'), 0o600)
}

// stopLibvirt undoes ensureLibvirt: the daemons it started are stopped,
// qemu.conf is restored and libvirt's leftover iptables chains removed.
func (s Spec) stopLibvirt(ctx context.Context) error {
	rec, ok := s.readLibvirtRecord()
	if !ok {
		return nil
	}
	var errs []error
	if rec.Started {
		for _, d := range []struct{ name, pidFile string }{{"libvirtd", "/run/libvirtd.pid"}, {"virtlogd", "/run/virtlogd.pid"}} {
			pids := findProcs(func(args []string) bool { return filepath.Base(args[0]) == d.name })
			if len(pids) == 0 {
				continue
			}
			if err := terminate(ctx, pids, syscall.SIGTERM, 20*time.Second); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", d.name, err))
			}
			_ = os.Remove(d.pidFile)
		}
		if err := removeChains(ctx, rec.Chains); err != nil {
			errs = append(errs, err)
		}
	}
	if rec.QemuConf {
		orig := filepath.Join(s.libvirtDir(), "qemu.conf.orig")
		data, err := os.ReadFile(orig)
		if err == nil {
			err = writeFileAtomic(qemuConfPath, data, 0o600)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", qemuConfPath, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return removeTree(s.libvirtDir())
}

// iptablesFamilies and iptablesTables are where libvirt adds its chains.
var (
	iptablesFamilies = []string{"iptables", "ip6tables"}
	iptablesTables   = []string{"filter", "nat", "mangle"}
)

// eachIptablesTable calls fn with the rules (`-S`, each split into its
// fields) of every family and table where libvirt adds chains. A table that
// cannot be listed (no ip6tables, a module not loaded) holds no libvirt
// chain, so it is passed over.
func eachIptablesTable(ctx context.Context, fn func(fam, table string, rules [][]string)) {
	for _, fam := range iptablesFamilies {
		for _, table := range iptablesTables {
			out, err := exec.CommandContext(ctx, fam, "-w", "-t", table, "-S").Output()
			if err != nil {
				continue
			}
			var rules [][]string
			for _, line := range strings.Split(string(out), "\n") {
				rules = append(rules, strings.Fields(line))
			}
			fn(fam, table, rules)
		}
	}
}

// iptablesChains lists every chain as "family/table/chain".
func iptablesChains(ctx context.Context) []string {
	var out []string
	eachIptablesTable(ctx, func(fam, table string, rules [][]string) {
		for _, f := range rules {
			if len(f) >= 2 && (f[0] == "-N" || f[0] == "-P") {
				out = append(out, fam+"/"+table+"/"+f[1])
			}
		}
	})
	return out
}

// LibvirtChains lists the LIBVIRT_ iptables chains that exist now.
func LibvirtChains(ctx context.Context) []string {
	var out []string
	for _, c := range iptablesChains(ctx) {
		if strings.Contains(c, "/LIBVIRT_") {
			out = append(out, c)
		}
	}
	return out
}

// removeChains deletes the LIBVIRT_ chains not in keep, after the rules
// that jump to them.
func removeChains(ctx context.Context, keep []string) error {
	kept := map[string]bool{}
	for _, c := range keep {
		kept[c] = true
	}
	var errs []error
	eachIptablesTable(ctx, func(fam, table string, rules [][]string) {
		var chains []string
		var jumps [][]string
		for _, f := range rules {
			if len(f) >= 2 && f[0] == "-N" && strings.HasPrefix(f[1], "LIBVIRT_") && !kept[fam+"/"+table+"/"+f[1]] {
				chains = append(chains, f[1])
			}
			if len(f) >= 4 && f[0] == "-A" {
				jumps = append(jumps, f)
			}
		}
		drop := map[string]bool{}
		for _, c := range chains {
			drop[c] = true
		}
		for _, f := range jumps {
			target := ""
			for i := 1; i+1 < len(f); i++ {
				if f[i] == "-j" || f[i] == "-g" {
					target = f[i+1]
				}
			}
			if drop[target] && !drop[f[1]] {
				args := append([]string{"-w", "-t", table, "-D"}, f[1:]...)
				if err := run(ctx, fam, args...); err != nil {
					errs = append(errs, err)
				}
			}
		}
		for _, c := range chains {
			if err := run(ctx, fam, "-w", "-t", table, "-F", c); err != nil {
				errs = append(errs, err)
			}
		}
		for _, c := range chains {
			if err := run(ctx, fam, "-w", "-t", table, "-X", c); err != nil {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}

// vmNetworkXML is the VM network: isolated (no <forward>, so no NAT and no
// route out), DHCP with one fixed lease per host.
func (s Spec) vmNetworkXML() (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "<network>\n  <name>%s</name>\n  <bridge name='%s' stp='off' delay='0'/>\n", VMNetworkName, VMBridgeName)
	fmt.Fprintf(&b, "  <ip address='%s' prefix='%d'>\n    <dhcp>\n", VMGateway, VMNetwork.Bits())
	fmt.Fprintf(&b, "      <range start='198.18.1.200' end='198.18.1.250'/>\n")
	for _, h := range s.Hosts {
		mac, err := vmMAC(h.Address)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "      <host mac='%s' name='%s' ip='%s'/>\n", mac, h.Name, h.Address)
	}
	b.WriteString("    </dhcp>\n  </ip>\n</network>\n")
	return b.String(), nil
}

// ensureVMNetwork defines and starts the VM network; a defined network
// without one of the spec's hosts is redefined (restarted) first.
func (s Spec) ensureVMNetwork(ctx context.Context) error {
	want, err := s.vmNetworkXML()
	if err != nil {
		return err
	}
	cur, err := virsh(ctx, "net-dumpxml", VMNetworkName)
	if err == nil {
		for _, h := range s.Hosts {
			mac, _ := vmMAC(h.Address)
			if !strings.Contains(cur, mac) || !strings.Contains(cur, "'"+h.Address+"'") {
				s.logf("network %s: redefined for host %s", VMNetworkName, h.Name)
				_, _ = virsh(ctx, "net-destroy", VMNetworkName)
				if _, err := virsh(ctx, "net-undefine", VMNetworkName); err != nil {
					return err
				}
				cur = ""
				break
			}
		}
	}
	if cur == "" {
		f := filepath.Join(s.libvirtDir(), "network.xml")
		if err := os.MkdirAll(s.libvirtDir(), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(f, []byte(want), 0o600); err != nil {
			return err
		}
		if _, err := virsh(ctx, "net-define", f); err != nil {
			return err
		}
	}
	if info, _ := virsh(ctx, "net-info", VMNetworkName); !strings.Contains(info, "Active:") || !activeYes(info) {
		if _, err := virsh(ctx, "net-start", VMNetworkName); err != nil {
			return err
		}
	}
	return nil
}

func activeYes(info string) bool {
	for _, line := range strings.Split(info, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "Active:" {
			return f[1] == "yes"
		}
	}
	return false
}

func (s Spec) poolDir() string { return filepath.Join(s.StateDir, "vagrant", "pool") }

// ensurePool defines and starts the VMs' storage pool in the state dir.
func (s Spec) ensurePool(ctx context.Context) error {
	if _, err := virsh(ctx, "pool-info", VMPoolName); err != nil {
		if err := os.MkdirAll(s.poolDir(), 0o711); err != nil {
			return fmt.Errorf("pool dir: %w", err)
		}
		if _, err := virsh(ctx, "pool-define-as", VMPoolName, "dir", "--target", s.poolDir()); err != nil {
			return err
		}
	}
	if info, _ := virsh(ctx, "pool-info", VMPoolName); !strings.Contains(info, "running") {
		if _, err := virsh(ctx, "pool-start", VMPoolName); err != nil {
			return err
		}
	}
	return nil
}

// removeVMResources removes domains left by vagrant, the pool's volumes,
// the pool and the network. Errors for things that do not exist are
// ignored; everything else is reported.
func (s Spec) removeVMResources(ctx context.Context) error {
	var errs []error
	// Domains of this lab: vagrant-libvirt names them PREFIX_HOST; any
	// that use the pool are this lab's.
	if out, err := virsh(ctx, "list", "--all", "--name"); err == nil {
		for _, d := range strings.Fields(out) {
			xml, err := virsh(ctx, "dumpxml", d)
			if err != nil || !strings.Contains(xml, s.poolDir()) && !strings.Contains(xml, "'"+VMNetworkName+"'") {
				continue
			}
			_, _ = virsh(ctx, "destroy", d)
			if _, err := virsh(ctx, "undefine", d, "--nvram"); err != nil {
				if _, err2 := virsh(ctx, "undefine", d); err2 != nil {
					errs = append(errs, err2)
				}
			}
		}
	}
	if _, err := virsh(ctx, "pool-info", VMPoolName); err == nil {
		vols, _ := virsh(ctx, "vol-list", VMPoolName)
		for _, line := range strings.Split(vols, "\n") {
			if f := strings.Fields(line); len(f) >= 1 {
				if _, err := virsh(ctx, "vol-delete", "--pool", VMPoolName, f[0]); err != nil {
					errs = append(errs, err)
				}
			}
		}
		_, _ = virsh(ctx, "pool-destroy", VMPoolName)
		if _, err := virsh(ctx, "pool-undefine", VMPoolName); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := virsh(ctx, "net-info", VMNetworkName); err == nil {
		_, _ = virsh(ctx, "net-destroy", VMNetworkName)
		if _, err := virsh(ctx, "net-undefine", VMNetworkName); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// VMDomains lists the libvirt domains attached to the lab's network or
// pool, for status and leak checks; nil when libvirt does not answer.
func VMDomains(ctx context.Context) map[string]string {
	if !libvirtAnswers(ctx) {
		return nil
	}
	out, err := virsh(ctx, "list", "--all", "--name")
	if err != nil {
		return nil
	}
	doms := map[string]string{}
	for _, d := range strings.Fields(out) {
		xml, err := virsh(ctx, "dumpxml", d)
		if err != nil || !strings.Contains(xml, "'"+VMNetworkName+"'") && !strings.Contains(xml, "'"+VMPoolName+"'") {
			continue
		}
		state, _ := virsh(ctx, "domstate", d)
		doms[d] = strings.TrimSpace(state)
	}
	return doms
}
