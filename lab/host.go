package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A host's state dir holds:
//
//	upper/      the overlay's upper dir: everything the host changed
//	ssh/        its sshd key, generated on the controller
//	nspawn.pid  the systemd-nspawn process running it
//	console.log the host's console
func (s Spec) upperDir(name string) string { return filepath.Join(s.hostDir(name), "upper") }
func (s Spec) pidFile(name string) string  { return filepath.Join(s.hostDir(name), "nspawn.pid") }
func (s Spec) consoleLog(name string) string {
	return filepath.Join(s.hostDir(name), "console.log")
}

// isNspawnOf matches the systemd-nspawn running host name of this lab. The
// upper dir in the command line ties the process to this state dir.
func (s Spec) isNspawnOf(name string) func([]string) bool {
	return func(args []string) bool {
		return len(args) > 0 && filepath.Base(args[0]) == "systemd-nspawn" &&
			slices.Contains(args, "--machine="+name) && strings.Contains(strings.Join(args, " "), ":"+s.upperDir(name)+":")
	}
}

// isLabNspawn matches any systemd-nspawn whose upper dir is in this lab's
// state dir, whatever the host: what down must stop even for hosts that are
// no longer in the spec.
func (s Spec) isLabNspawn(args []string) bool {
	return len(args) > 0 && filepath.Base(args[0]) == "systemd-nspawn" &&
		strings.Contains(strings.Join(args, " "), ":"+filepath.Join(s.StateDir, "hosts")+"/")
}

// hostPid returns the pid of the host's nspawn, 0 when it is not running.
func (s Spec) hostPid(name string) int {
	if pid := readPidFile(s.pidFile(name), s.isNspawnOf(name)); pid != 0 {
		return pid
	}
	// The pid file may be lost (a crash between start and write).
	for _, pid := range findProcs(s.isNspawnOf(name)) {
		if !isZombie(pid) {
			return pid
		}
	}
	return 0
}

// prepareUpper writes into a host's upper dir what makes it this host:
// identity, address book, sshd key and login, and apt sources through the
// proxy. Existing files are overwritten, so a restarted host is set right.
func (s Spec) prepareUpper(h HostSpec, sources []byte) error {
	up := s.upperDir(h.Name)
	key, err := os.ReadFile(s.hostKeyFile(h.Name))
	if err != nil {
		return fmt.Errorf("host %s: %w", h.Name, err)
	}
	pub, err := os.ReadFile(s.hostKeyFile(h.Name) + ".pub")
	if err != nil {
		return fmt.Errorf("host %s: %w", h.Name, err)
	}
	labPub, err := os.ReadFile(s.KeyFile + ".pub")
	if err != nil {
		return fmt.Errorf("host %s: lab key: %w", h.Name, err)
	}
	machineID, err := readOrNewMachineID(filepath.Join(up, "etc/machine-id"))
	if err != nil {
		return fmt.Errorf("host %s: %w", h.Name, err)
	}
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, o := range s.Hosts {
		fmt.Fprintf(&hosts, "%s\t%s\n", o.Address, o.Name)
	}
	files := []struct {
		path string
		mode os.FileMode
		data []byte
	}{
		{"etc/hostname", 0o644, []byte(h.Name + "\n")},
		{"etc/machine-id", 0o444, []byte(machineID + "\n")},
		{"etc/hosts", 0o644, []byte(hosts.String())},
		// No DNS in the lab: names are in /etc/hosts; an empty resolv.conf
		// makes lookups fail at once instead of timing out.
		{"etc/resolv.conf", 0o644, []byte("# ferry lab: no DNS; names are in /etc/hosts\n")},
		{"etc/ssh/ssh_host_ed25519_key", 0o600, key},
		{"etc/ssh/ssh_host_ed25519_key.pub", 0o644, pub},
		{"etc/ssh/sshd_config.d/ferry-lab.conf", 0o644, []byte(
			"# ferry lab: the controller generated this key and knows it.\n" +
				"HostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\nPermitRootLogin prohibit-password\n")},
		{"root/.ssh/authorized_keys", 0o600, labPub},
		{"etc/apt/sources.list", 0o644, []byte("# ferry lab: see sources.list.d/ferry-lab.sources\n")},
		{"etc/apt/sources.list.d/ferry-lab.sources", 0o644, sources},
	}
	for _, f := range files {
		p := filepath.Join(up, f.path)
		dirMode := os.FileMode(0o755)
		if strings.HasPrefix(f.path, "root/") {
			dirMode = 0o700
		}
		if err := os.MkdirAll(filepath.Dir(p), dirMode); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
		if err := writeFileAtomic(p, f.data, f.mode); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	return nil
}

func readOrNewMachineID(path string) (string, error) {
	if data, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(data))) == 32 {
		return strings.TrimSpace(string(data)), nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("machine id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// bootHost starts systemd-nspawn for a prepared host in its own session, so
// that it outlives this process and a Ctrl-C aimed at ferry. The returned
// channel is closed if nspawn exits while this process still runs.
func (s Spec) bootHost(h HostSpec) (pid int, exited <-chan struct{}, err error) {
	logf, err := os.OpenFile(s.consoleLog(h.Name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, nil, fmt.Errorf("boot %s: %w", h.Name, err)
	}
	defer logf.Close()
	cmd := exec.Command("systemd-nspawn",
		"--quiet", "--register=no", "--keep-unit",
		"--machine="+h.Name,
		"--directory="+s.BaseDir,
		"--overlay="+s.BaseDir+":"+s.upperDir(h.Name)+":/",
		"--network-namespace-path="+netnsPath(h.Name),
		// NET_ADMIN for ufw and keepalived's addresses, NET_RAW for VRRP
		// and ping, NET_BROADCAST for keepalived's gratuitous ARP.
		"--capability=CAP_NET_ADMIN,CAP_NET_RAW,CAP_NET_BROADCAST",
		"--resolv-conf=off", "--timezone=off", "--link-journal=no",
		"--console=read-only",
		"--boot")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("boot %s: %w", h.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	if err := writeFileAtomic(s.pidFile(h.Name), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return 0, nil, fmt.Errorf("boot %s: %w", h.Name, err)
	}
	return cmd.Process.Pid, done, nil
}

// consoleTail returns the end of a host's console log for error messages.
func (s Spec) consoleTail(name string) string {
	data, _ := os.ReadFile(s.consoleLog(name))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// stopHosts powers off the hosts' systemd (nspawn turns SIGTERM into a clean
// shutdown), awaits them and kills whatever does not stop in time.
func stopHosts(ctx context.Context, pids []int) error {
	if len(pids) == 0 {
		return nil
	}
	if err := terminate(ctx, pids, syscall.SIGTERM, 30*time.Second); err != nil {
		return fmt.Errorf("stop hosts: %w", err)
	}
	return nil
}

// removeHostState removes a host's state dir, unmounting first whatever a
// crashed nspawn may have left mounted there.
func (s Spec) removeHostState(name string) error {
	dir := s.hostDir(name)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return removeTree(dir)
}
