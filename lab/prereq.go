package lab

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// AptInstallHint is the command that installs everything the lab needs.
const AptInstallHint = "apt-get install -y debootstrap systemd-container iproute2 nginx-light openssh-client"

// VagrantAptInstallHint installs what the Vagrant lab needs on a Debian
// controller with libvirt (emulation or KVM).
const VagrantAptInstallHint = "apt-get install -y --no-install-recommends vagrant vagrant-libvirt libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils dnsmasq-base iptables e2fsprogs systemd-container debootstrap nginx-light openssh-client"

// requiredTools maps each program the nspawn lab runs to its Debian package.
var requiredTools = []struct{ bin, pkg string }{
	{"debootstrap", "debootstrap"},
	{"systemd-nspawn", "systemd-container"},
	{"ip", "iproute2"},
	{"nginx", "nginx-light"},
	{"ssh", "openssh-client"},
	{"ssh-keygen", "openssh-client"},
}

// CheckPrereqs reports, in one error, why this machine cannot run the nspawn
// lab: not Linux, not root, or programs missing (with the line that fixes it).
func CheckPrereqs() error {
	if err := checkRoot(); err != nil {
		return err
	}
	var missing []string
	for _, t := range requiredTools {
		if _, err := exec.LookPath(t.bin); err != nil {
			missing = append(missing, fmt.Sprintf("%s (package %s)", t.bin, t.pkg))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the lab needs %s; install with: %s", strings.Join(missing, ", "), AptInstallHint)
	}
	return nil
}

// checkRoot is all that taking a lab down needs: it must work even when a
// tool was removed since the lab came up.
func checkRoot() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the nspawn lab needs Linux (this is %s); use --provider vagrant", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the nspawn lab needs root (namespaces, bridge, mounts): run it with sudo")
	}
	return nil
}
