package lab

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// vagrantfile drives every VM of the Vagrant lab from the lab.json that
// VagrantUp writes beside it; it is written into the state dir, so the lab
// does not depend on the working directory.
//
//go:embed Vagrantfile
var vagrantfile []byte

// PublicBox is the Debian project's box, the default where it can be
// downloaded and KVM (or VirtualBox) runs it at native speed.
const PublicBox = "debian/bookworm64"

// vmBootTimeout bounds one VM's wait for SSH after `vagrant up` returned;
// emulated VMs are slow.
const vmBootTimeout = 5 * time.Minute

// VagrantOptions are the Vagrant lab's choices beyond the Spec.
type VagrantOptions struct {
	// Hosts limits up to these hosts of the spec; empty means all.
	Hosts []string
	// Box is "local" (built by EnsureBox), a box name such as PublicBox,
	// or "" to choose: the local box when it is cached or KVM is not
	// usable, else PublicBox.
	Box string
	// Provider is "libvirt" or "virtualbox"; "" picks libvirt when virsh
	// is installed.
	Provider string
}

// vagrantLab is lab.json, what the Vagrantfile reads.
type vagrantLab struct {
	Box      string      `json:"box"`
	Accel    string      `json:"accel"`
	Network  string      `json:"network"`
	Pool     string      `json:"pool"`
	CIDR     string      `json:"cidr"`
	MemoryMB int         `json:"memory"`
	Hosts    []vagrantVM `json:"hosts"`
}

type vagrantVM struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	MAC     string `json:"mac"`
	Files   string `json:"files"`
	Console string `json:"console"`
}

func (s Spec) vagrantDir() string { return filepath.Join(s.StateDir, "vagrant") }

// vagrantDefaults applies the Vagrant lab's network to a spec.
func vagrantDefaults(spec Spec) (Spec, error) {
	if !spec.Network.IsValid() {
		spec.Network = VMNetwork
	}
	s, err := spec.withDefaults()
	if err != nil {
		return s, err
	}
	return s, s.Validate()
}

// selectHosts returns the spec's hosts named in names (all when empty).
func (s Spec) selectHosts(names []string) ([]HostSpec, error) {
	if len(names) == 0 {
		return s.Hosts, nil
	}
	var out []HostSpec
	for _, n := range names {
		found := false
		for _, h := range s.Hosts {
			if h.Name == n {
				out = append(out, h)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("--hosts: no host %q in the lab inventory", n)
		}
	}
	return out, nil
}

// VagrantUp brings the spec's hosts (or opts.Hosts) up as Vagrant VMs and
// returns when each answers SSH as root with the lab key and its known host
// key. With libvirt it first starts what the VMs need: the libvirt daemons
// when no service manager runs them, the VM network and pool, and an apt
// proxy on the network's gateway, the VMs' only way out.
func VagrantUp(ctx context.Context, spec Spec, opts VagrantOptions) error {
	s, err := vagrantDefaults(spec)
	if err != nil {
		return err
	}
	up, err := s.selectHosts(opts.Hosts)
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("vagrant"); err != nil {
		return fmt.Errorf("the vagrant lab needs vagrant and a VM provider (libvirt or VirtualBox); on Debian: %s", VagrantAptInstallHint)
	}
	provider := opts.Provider
	if provider == "" {
		provider = "virtualbox"
		if _, err := exec.LookPath("virsh"); err == nil {
			provider = "libvirt"
		}
	}
	if provider != "libvirt" && provider != "virtualbox" {
		return fmt.Errorf("vagrant provider %q: want libvirt or virtualbox", provider)
	}
	if provider == "libvirt" && os.Geteuid() != 0 {
		return errors.New("the vagrant lab with libvirt needs root (its network, pool and qemu:///system): run it with sudo")
	}
	closeInheritedOnExec()
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	start := time.Now()
	if err := s.record(); err != nil {
		return err
	}
	if err := s.ensureKeys(ctx); err != nil {
		return err
	}
	srcs, err := ReadAptSources(s.AptSources)
	if err != nil {
		return err
	}
	px := proxy{dir: filepath.Join(s.StateDir, "proxy"), cache: filepath.Join(DefaultBoxDir, "apt"), listen: VMGateway}
	lab := vagrantLab{Network: VMNetworkName, Pool: VMPoolName, CIDR: VMNetwork.String(), MemoryMB: 768, Accel: "kvm"}
	env := []string{"VAGRANT_CWD=" + s.vagrantDir(), "VAGRANT_DEFAULT_PROVIDER=" + provider}
	if err := os.MkdirAll(s.vagrantDir(), 0o700); err != nil {
		return fmt.Errorf("vagrant dir: %w", err)
	}
	if provider == "libvirt" {
		if err := s.ensureLibvirt(ctx); err != nil {
			return err
		}
		if err := s.ensureVMNetwork(ctx); err != nil {
			return err
		}
		if err := s.ensurePool(ctx); err != nil {
			return err
		}
		if err := px.ensure(ctx, srcs); err != nil {
			return err
		}
		box, boxEnv, accel, err := s.chooseBox(ctx, opts.Box)
		if err != nil {
			return err
		}
		lab.Box, lab.Accel = box, accel
		env = append(env, boxEnv...)
	} else {
		lab.Box = opts.Box
		switch lab.Box {
		case "":
			lab.Box = PublicBox
		case "local":
			return errors.New("--box local: the local box is for libvirt only; VirtualBox uses " + PublicBox)
		}
	}
	for _, h := range s.Hosts {
		vm, err := s.prepareVM(h, hostSources(srcs, px.URL()))
		if err != nil {
			return err
		}
		lab.Hosts = append(lab.Hosts, vm)
	}
	data, err := json.MarshalIndent(lab, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.vagrantDir(), "lab.json"), append(data, '\n'), 0o600); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.vagrantDir(), "Vagrantfile"), vagrantfile, 0o644); err != nil {
		return err
	}
	names := make([]string, 0, len(up))
	for _, h := range up {
		names = append(names, h.Name)
	}
	s.logf("vagrant: up %s (%s, %s, box %s)", strings.Join(names, " "), provider, lab.Accel, lab.Box)
	vupStart := time.Now()
	if err := s.vagrant(ctx, env, append([]string{"up", "--provider=" + provider}, names...)...); err != nil {
		return err
	}
	s.logf("vagrant: up returned in %s", time.Since(vupStart).Round(100*time.Millisecond))
	if provider != "libvirt" {
		// VirtualBox makes the host-only network, and so the gateway
		// address the proxy listens on, during up.
		if err := px.ensure(ctx, srcs); err != nil {
			return err
		}
	}
	raw, err := s.vagrantOutput(ctx, env, append([]string{"ssh-config"}, names...)...)
	if err != nil {
		return err
	}
	hosts, err := ParseSSHConfig(raw)
	if err != nil {
		return err
	}
	if err := saveVagrantHosts(s.StateDir, raw, hosts); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, h := range up {
		g.Go(func() error {
			if _, err := s.waitSSH(gctx, h, nil, vmBootTimeout); err != nil {
				return fmt.Errorf("vagrant host %s: %w", h.Name, err)
			}
			s.logf("%s: ready at %s", h.Name, h.Address)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	s.logf("vagrant lab up in %s", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// chooseBox decides the box and the accelerator, building or adding the
// local box when it is the one, and returns the environment Vagrant needs
// to find it: the local box lives in a Vagrant home of the lab's own, so it
// leaves nothing in the user's.
func (s Spec) chooseBox(ctx context.Context, want string) (box string, env []string, accel string, err error) {
	cached, _ := CachedBox()
	kernel := cached.Kernel
	if kernel == "" {
		kernel = hostKernel()
	}
	accel, why := DetectAccel(ctx, kernel)
	if want == "" {
		// KVM unproven (no kernel to try) counts as unusable: the
		// public box would then boot emulated, if it downloads at all.
		want = PublicBox
		if cached.Path != "" || accel != "kvm" || kernel == "" {
			want = "local"
		}
	}
	if want != "local" {
		s.logf("vagrant: %s (%s)", accelSaid(accel), why)
		return want, nil, accel, nil
	}
	b, err := EnsureBox(ctx, BoxSpec{Log: s.Log})
	if err != nil {
		return "", nil, "", err
	}
	if kernel == "" { // unproven so far: the box's kernel can be tried now
		accel, why = DetectAccel(ctx, b.Kernel)
	}
	s.logf("vagrant: %s (%s)", accelSaid(accel), why)
	home := filepath.Join(s.vagrantDir(), "home")
	env = []string{"VAGRANT_HOME=" + home}
	// Vagrant stores a box named a/b under boxes/a-VAGRANTSLASH-b.
	stored := filepath.Join(home, "boxes", strings.ReplaceAll(b.Name, "/", "-VAGRANTSLASH-"))
	if _, err := os.Stat(stored); err != nil {
		if err := s.vagrant(ctx, env, "box", "add", "--force", "--name", b.Name, b.Path); err != nil {
			return "", nil, "", err
		}
	}
	return b.Name, env, accel, nil
}

// hostKernel is this machine's own kernel if readable, for the KVM probe
// before any box is built.
func hostKernel() string {
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	k := "/boot/vmlinuz-" + strings.TrimSpace(string(rel))
	if f, err := os.Open(k); err == nil {
		f.Close()
		return k
	}
	return ""
}

func accelSaid(accel string) string {
	if accel == "kvm" {
		return "KVM acceleration"
	}
	return "no usable KVM: qemu emulation (slow; fine for tests)"
}

// DetectAccel says whether KVM can run a guest here: /dev/kvm must open,
// and, given a kernel, a KVM guest must boot it to its expected panic (no
// root disk) in time. Some machines (nested microVMs) have a /dev/kvm whose
// guests hang; they get "qemu", plain emulation. FERRY_LAB_ACCEL=kvm|qemu
// skips the probe.
func DetectAccel(ctx context.Context, kernel string) (accel, why string) {
	switch v := os.Getenv("FERRY_LAB_ACCEL"); v {
	case "kvm", "qemu":
		return v, "FERRY_LAB_ACCEL=" + v
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "qemu", fmt.Sprintf("/dev/kvm: %v", err)
	}
	f.Close()
	if kernel == "" {
		return "kvm", "/dev/kvm opens; no kernel to test-boot"
	}
	// The answer holds until the machine reboots: a probe that times out
	// costs 20 s, so it is kept per boot.
	bootID, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	cache := filepath.Join(DefaultBoxDir, "accel-probe")
	_ = os.MkdirAll(DefaultBoxDir, 0o755)
	if data, err := os.ReadFile(cache); err == nil && len(bootID) > 0 {
		if id, rest, ok := strings.Cut(string(data), "\n"); ok && id == strings.TrimSpace(string(bootID)) {
			if accel, why, ok := strings.Cut(strings.TrimSpace(rest), " "); ok && (accel == "kvm" || accel == "qemu") {
				return accel, why + " (probed earlier this boot)"
			}
		}
	}
	accel, why = probeKVM(ctx, kernel)
	if len(bootID) > 0 {
		_ = writeFileAtomic(cache, []byte(strings.TrimSpace(string(bootID))+"\n"+accel+" "+why+"\n"), 0o644)
	}
	return accel, why
}

// probeKVM boots kernel in a KVM guest with no disk: a kernel that reaches
// its root-mount panic proves KVM runs guests here.
func probeKVM(ctx context.Context, kernel string) (accel, why string) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return "qemu", "qemu-system-x86_64 not found"
	}
	const limit = 20 * time.Second
	pctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(pctx, qemu, "-accel", "kvm", "-m", "256", "-nodefaults", "-nographic",
		"-serial", "stdio", "-monitor", "none", "-no-reboot", "-kernel", kernel, "-append", "console=ttyS0 panic=-1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	_ = cmd.Run()
	if bytes.Contains(out.Bytes(), []byte("Kernel panic")) || bytes.Contains(out.Bytes(), []byte("VFS: Unable to mount root")) {
		return "kvm", fmt.Sprintf("a KVM test guest booted its kernel in %s", time.Since(t0).Round(100*time.Millisecond))
	}
	if pctx.Err() != nil {
		return "qemu", fmt.Sprintf("/dev/kvm opens but a KVM test guest did not boot within %s", limit)
	}
	return "qemu", fmt.Sprintf("a KVM test guest failed: %s", strings.TrimSpace(string(tail(out.Bytes(), 200))))
}

// prepareVM writes what the provisioner installs in a VM: its sshd key,
// the lab key, the address book and apt sources through the proxy.
func (s Spec) prepareVM(h HostSpec, sources []byte) (vagrantVM, error) {
	mac, err := vmMAC(h.Address)
	if err != nil {
		return vagrantVM{}, err
	}
	dir := filepath.Join(s.hostDir(h.Name), "vagrant")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return vagrantVM{}, fmt.Errorf("host %s: %w", h.Name, err)
	}
	key, err := os.ReadFile(s.hostKeyFile(h.Name))
	if err != nil {
		return vagrantVM{}, fmt.Errorf("host %s: %w", h.Name, err)
	}
	pub, err := os.ReadFile(s.hostKeyFile(h.Name) + ".pub")
	if err != nil {
		return vagrantVM{}, fmt.Errorf("host %s: %w", h.Name, err)
	}
	labPub, err := os.ReadFile(s.KeyFile + ".pub")
	if err != nil {
		return vagrantVM{}, fmt.Errorf("host %s: lab key: %w", h.Name, err)
	}
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, o := range s.Hosts {
		fmt.Fprintf(&hosts, "%s\t%s\n", o.Address, o.Name)
	}
	for name, data := range map[string][]byte{
		"ssh_host_ed25519_key":     key,
		"ssh_host_ed25519_key.pub": pub,
		"authorized_keys":          labPub,
		"hosts":                    []byte(hosts.String()),
		"hostname":                 []byte(h.Name + "\n"),
		"ferry-lab.sources":        sources,
	} {
		if err := writeFileAtomic(filepath.Join(dir, name), data, 0o600); err != nil {
			return vagrantVM{}, err
		}
	}
	return vagrantVM{Name: h.Name, Address: h.Address, MAC: mac, Files: dir,
		Console: filepath.Join(s.hostDir(h.Name), "console.log")}, nil
}

func (s Spec) vagrantCmd(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "vagrant", args...)
	cmd.Dir = s.vagrantDir()
	cmd.Env = append(append(os.Environ(), "VAGRANT_CHECKPOINT_DISABLE=1", "VAGRANT_NO_COLOR=1"), env...)
	return cmd
}

// vagrant runs a vagrant command with its output in the lab's log.
func (s Spec) vagrant(ctx context.Context, env []string, args ...string) error {
	cmd := s.vagrantCmd(ctx, env, args...)
	log := &progressFilter{w: s.Log}
	cmd.Stdout, cmd.Stderr = log, log
	err := cmd.Run()
	log.flush()
	if err != nil {
		return fmt.Errorf("vagrant %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// progressFilter passes Vagrant's output on line by line without its
// progress meters (hundreds of "\r\x1b[KProgress: N%" updates per upload,
// which make a log unreadable). Safe for one command's stdout and stderr.
type progressFilter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (f *progressFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = append(f.buf, p...)
	for {
		i := bytes.IndexByte(f.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := dropProgress(f.buf[:i])
		f.buf = f.buf[i+1:]
		if _, err := f.w.Write(append(line, '\n')); err != nil {
			return len(p), err
		}
	}
}

func (f *progressFilter) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.buf) > 0 {
		if line := dropProgress(f.buf); len(line) > 0 {
			_, _ = f.w.Write(append(line, '\n'))
		}
		f.buf = nil
	}
}

// dropProgress removes the carriage-return-separated progress updates and
// erase-line codes from one line of output.
func dropProgress(line []byte) []byte {
	var out []byte
	for _, seg := range bytes.Split(line, []byte("\r")) {
		seg = bytes.ReplaceAll(seg, []byte("\x1b[K"), nil)
		if bytes.HasPrefix(bytes.TrimSpace(seg), []byte("Progress:")) {
			continue
		}
		out = append(out, seg...)
	}
	return out
}

func (s Spec) vagrantOutput(ctx context.Context, env []string, args ...string) ([]byte, error) {
	cmd := s.vagrantCmd(ctx, env, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("vagrant %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(errb.Bytes()))
	}
	return out, nil
}

// VagrantDown destroys the lab's VMs and removes everything VagrantUp made:
// volumes, pool, network, proxy, the daemons it started and their iptables
// chains, qemu.conf restored, and the state files. It works from what
// exists, so it also cleans after a crash.
func VagrantDown(ctx context.Context, spec Spec) error {
	s, err := vagrantDefaults(spec)
	if err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	var errs []error
	if _, err := os.Stat(filepath.Join(s.vagrantDir(), "Vagrantfile")); err == nil {
		if _, err := exec.LookPath("vagrant"); err == nil {
			env := []string{"VAGRANT_HOME=" + filepath.Join(s.vagrantDir(), "home")}
			if err := s.vagrant(ctx, env, "destroy", "-f"); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if _, err := exec.LookPath("virsh"); err == nil && libvirtAnswers(ctx) {
		if err := s.removeVMResources(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	px := proxy{dir: filepath.Join(s.StateDir, "proxy"), listen: VMGateway}
	if err := px.stop(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.stopLibvirt(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, p := range []string{s.vagrantDir(), filepath.Join(s.StateDir, "hosts"), filepath.Join(s.StateDir, "proxy")} {
		if err := removeTree(p); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range []string{s.KeyFile, s.KeyFile + ".pub", s.KnownHostsFile, filepath.Join(s.StateDir, recordFile), filepath.Join(s.StateDir, vagrantFile), filepath.Join(s.StateDir, vagrantSSHConfig)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", f, err))
		}
	}
	unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab down: %w", err)
	}
	_ = os.Remove(filepath.Join(s.StateDir, "lock"))
	_ = os.Remove(s.StateDir)
	s.logf("lab down: removed the VMs, network %s, pool %s and the proxy", VMNetworkName, VMPoolName)
	return nil
}

// VagrantStatus reports each spec'd host's VM state as libvirt sees it
// ("not created" when there is none).
func VagrantStatus(ctx context.Context, spec Spec) ([]HostStatus, error) {
	s, err := vagrantDefaults(spec)
	if err != nil {
		return nil, err
	}
	doms := VMDomains(ctx)
	out := make([]HostStatus, 0, len(s.Hosts))
	for _, h := range s.Hosts {
		st := HostStatus{Name: h.Name, Address: h.Address, State: "not created"}
		if state, ok := doms[vmDomainPrefix+h.Name]; ok {
			st.State = state
		}
		out = append(out, st)
	}
	return out, nil
}

// vmDomainPrefix is the Vagrantfile's libvirt default_prefix.
const vmDomainPrefix = "ferry-lab-"

// VMProxyRunning reports whether the Vagrant lab's apt proxy runs.
func VMProxyRunning(spec Spec) bool {
	s, err := spec.withDefaults()
	if err != nil {
		return false
	}
	return proxy{dir: filepath.Join(s.StateDir, "proxy"), listen: VMGateway}.pid() != 0
}
