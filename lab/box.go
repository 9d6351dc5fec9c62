package lab

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The local Vagrant box: Debian 12 for the libvirt provider, built from the
// lab's cached base and Debian packages, for machines where the public
// debian/bookworm64 box cannot be downloaded.
const (
	// DefaultBoxDir caches built boxes, one file per recipe.
	DefaultBoxDir = "/var/cache/ferry/vagrant"
	// boxFormat changes whenever the recipe below changes in a way the
	// hashed inputs do not show.
	boxFormat = "3"
)

// boxPackages turn the container base into a bootable VM: a kernel for
// virtio, an initramfs, udev for devices, and sudo for the vagrant user.
var boxPackages = []string{"linux-image-cloud-amd64", "initramfs-tools", "udev", "openssh-server", "sudo"}

// vagrantInsecureKey is Vagrant's well-known public key, shipped with the
// vagrant package; Vagrant replaces it with a per-VM key at the first login.
var vagrantInsecureKeyPaths = []string{
	"/usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub",
	"/opt/vagrant/embedded/gems/gems/vagrant-*/keys/vagrant.pub",
}

// boxSetup runs inside the box's root filesystem after the packages are in.
// Each VM must make its own identity at first boot: an empty machine-id
// (systemd makes one, and DHCP's client id follows the MAC, not the id) and
// its own sshd keys, generated before sshd starts.
const boxSetup = `set -eu
id vagrant >/dev/null 2>&1 || useradd -m -s /bin/bash vagrant
install -d -m 700 -o vagrant -g vagrant /home/vagrant/.ssh
install -m 600 -o vagrant -g vagrant /var/tmp/vagrant.pub /home/vagrant/.ssh/authorized_keys
rm -f /var/tmp/vagrant.pub
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/vagrant
chmod 440 /etc/sudoers.d/vagrant
mkdir -p /etc/systemd/network
printf '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n\n[DHCPv4]\nClientIdentifier=mac\n' > /etc/systemd/network/10-eth0.network
systemctl enable systemd-networkd >/dev/null 2>&1
cat > /etc/systemd/system/ferry-ssh-hostkeys.service <<'EOF'
[Unit]
Description=Generate this VM's own sshd host keys
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
EOF
systemctl enable ferry-ssh-hostkeys.service >/dev/null 2>&1
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > /etc/fstab
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
ln -s /etc/machine-id /var/lib/dbus/machine-id
apt-get clean
rm -rf /var/lib/apt/lists/* /etc/apt/sources.list.d/ferry-box-build.sources
`

// boxVagrantfile ships inside the box: it boots the box's kernel and initrd
// directly, so the image needs no boot loader. The lab's VMs are disposable
// test machines, often emulated: CPU vulnerability mitigations, which make
// every syscall and fork dearer and cost most under emulation, are off.
const boxVagrantfile = `# Written by ferry lab box: boots the kernel shipped beside the disk image.
Vagrant.configure("2") do |config|
  config.vm.provider "libvirt" do |lv|
    lv.kernel = File.join(__dir__, "vmlinuz")
    lv.initrd = File.join(__dir__, "initrd.img")
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0 mitigations=off"
  end
end
`

// Box is a built box file and the name it is added to Vagrant under.
type Box struct {
	Name string
	Path string
	// Kernel is a copy of the box's kernel beside it, for the KVM probe.
	Kernel string
}

// CachedBox returns the local box of the current recipe if it is built.
func CachedBox() (Box, error) {
	key, err := findInsecureKey()
	if err != nil {
		return Box{}, err
	}
	b := boxFor(DefaultBoxDir, boxRecipe(key))
	for _, p := range []string{b.Path, b.Kernel} {
		if _, err := os.Stat(p); err != nil {
			return Box{}, err
		}
	}
	return b, nil
}

func boxFor(dir, recipe string) Box {
	base := filepath.Join(dir, "ferry-bookworm-"+recipe)
	return Box{Name: "ferry/bookworm-" + recipe, Path: base + ".box", Kernel: base + ".vmlinuz"}
}

// BoxSpec says where a box is built from and cached.
type BoxSpec struct {
	// BaseDir is the lab's debootstrapped base; default DefaultBaseDir.
	BaseDir string
	// Dir caches built boxes; default DefaultBoxDir.
	Dir string
	// AptSources as in Spec.
	AptSources []string
	// Log receives one line per step; nil discards.
	Log io.Writer
}

// boxRecipe hashes everything a box is made of, so that a box file is
// reused exactly while its inputs stay the same.
func boxRecipe(insecureKey []byte) string {
	h := sha256.New()
	for _, part := range []string{baseStamp(), boxFormat, strings.Join(boxPackages, ","), boxSetup, boxVagrantfile, string(insecureKey)} {
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func findInsecureKey() ([]byte, error) {
	for _, pat := range vagrantInsecureKeyPaths {
		found, _ := filepath.Glob(pat)
		if len(found) > 0 {
			return os.ReadFile(found[len(found)-1])
		}
	}
	return nil, fmt.Errorf("vagrant's insecure public key (keys/vagrant.pub) not found: install vagrant")
}

// EnsureBox returns the local box, building it when no box of the current
// recipe is cached: the base (built first if missing), then the packages
// and setup above in a copy of it, then an ext4 image made without mounting
// anything, converted to compressed qcow2 and packed with the kernel.
func EnsureBox(ctx context.Context, bs BoxSpec) (Box, error) {
	if bs.BaseDir == "" {
		bs.BaseDir = DefaultBaseDir
	}
	if bs.Dir == "" {
		bs.Dir = DefaultBoxDir
	}
	if len(bs.AptSources) == 0 {
		bs.AptSources = DefaultAptSources()
	}
	if bs.Log == nil {
		bs.Log = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(bs.Log, format+"\n", args...) }
	key, err := findInsecureKey()
	if err != nil {
		return Box{}, err
	}
	recipe := boxRecipe(key)
	box := boxFor(bs.Dir, recipe)
	_, errBox := os.Stat(box.Path)
	_, errKernel := os.Stat(box.Kernel)
	if errBox == nil && errKernel == nil {
		logf("box: %s cached at %s", box.Name, box.Path)
		return box, nil
	}
	for _, tool := range []struct{ bin, pkg string }{{"systemd-nspawn", "systemd-container"}, {"mke2fs", "e2fsprogs"}, {"qemu-img", "qemu-utils"}, {"tar", "tar"}} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			return Box{}, fmt.Errorf("building the box needs %s (package %s)", tool.bin, tool.pkg)
		}
	}
	srcs, err := ReadAptSources(bs.AptSources)
	if err != nil {
		return Box{}, err
	}
	mirror, err := debootstrapMirror(srcs, "")
	if err != nil {
		return Box{}, err
	}
	// Without the lab's proxy the controller reaches its mirror itself.
	mirror = directMirror(srcs, mirror)
	start := time.Now()
	if err := ensureBase(ctx, bs.BaseDir, mirror, logf); err != nil {
		return Box{}, err
	}
	if err := os.MkdirAll(bs.Dir, 0o755); err != nil {
		return Box{}, fmt.Errorf("box dir: %w", err)
	}
	work, err := os.MkdirTemp(bs.Dir, ".build-")
	if err != nil {
		return Box{}, fmt.Errorf("box build dir: %w", err)
	}
	defer removeTree(work)
	root := filepath.Join(work, "rootfs")
	logf("box: building %s from %s", box.Name, bs.BaseDir)
	// The cached base is shared and never modified: the build works on a copy.
	if err := run(ctx, "cp", "-a", bs.BaseDir, root); err != nil {
		return Box{}, fmt.Errorf("box: copy base: %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list.d/ferry-box-build.sources"), directSources(srcs), 0o644); err != nil {
		return Box{}, fmt.Errorf("box: %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, "var/tmp/vagrant.pub"), key, 0o644); err != nil {
		return Box{}, fmt.Errorf("box: %w", err)
	}
	script := "export DEBIAN_FRONTEND=noninteractive\napt-get update -q\napt-get install -y -q --no-install-recommends " +
		strings.Join(boxPackages, " ") + "\n" + boxSetup
	var out bytes.Buffer
	// nspawn, not chroot: it mounts /proc, /sys and /dev for the package
	// scripts and unmounts them whatever happens.
	nspawn := exec.CommandContext(ctx, "systemd-nspawn", "-q", "--register=no", "--keep-unit",
		"--resolv-conf=replace-host", "-D", root, "/bin/sh", "-c", script)
	nspawn.Stdout, nspawn.Stderr = &out, &out
	if err := nspawn.Run(); err != nil {
		return Box{}, fmt.Errorf("box: packages and setup: %w:\n%s", err, tail(out.Bytes(), 3000))
	}
	// The box carries an empty resolv.conf like the lab hosts: no DNS.
	_ = os.Remove(filepath.Join(root, "etc/resolv.conf"))
	if err := os.WriteFile(filepath.Join(root, "etc/resolv.conf"), nil, 0o644); err != nil {
		return Box{}, fmt.Errorf("box: %w", err)
	}
	for src, dst := range map[string]string{"vmlinuz": "vmlinuz", "initrd.img": "initrd.img"} {
		// /vmlinuz and /initrd.img are links to the installed kernel's files.
		real, err := filepath.EvalSymlinks(filepath.Join(root, src))
		if err != nil {
			return Box{}, fmt.Errorf("box: kernel file %s: %w", src, err)
		}
		if !strings.HasPrefix(real, root) {
			real = filepath.Join(root, strings.TrimPrefix(real, "/"))
		}
		if err := run(ctx, "cp", real, filepath.Join(work, dst)); err != nil {
			return Box{}, fmt.Errorf("box: %w", err)
		}
	}
	raw := filepath.Join(work, "disk.raw")
	if err := run(ctx, "mke2fs", "-q", "-t", "ext4", "-L", "root", "-d", root, raw, "4G"); err != nil {
		return Box{}, fmt.Errorf("box: disk image: %w", err)
	}
	if err := run(ctx, "qemu-img", "convert", "-c", "-O", "qcow2", raw, filepath.Join(work, "box.img")); err != nil {
		return Box{}, fmt.Errorf("box: qcow2: %w", err)
	}
	_ = os.Remove(raw)
	for name, data := range map[string]string{
		"metadata.json": `{"provider":"libvirt","format":"qcow2","virtual_size":4}` + "\n",
		"Vagrantfile":   boxVagrantfile,
	} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(data), 0o644); err != nil {
			return Box{}, fmt.Errorf("box: %w", err)
		}
	}
	tmpBox := box.Path + ".tmp"
	if err := run(ctx, "tar", "-C", work, "-cf", tmpBox, "box.img", "metadata.json", "Vagrantfile", "vmlinuz", "initrd.img"); err != nil {
		_ = os.Remove(tmpBox)
		return Box{}, fmt.Errorf("box: pack: %w", err)
	}
	// The kernel goes first: a box file without it is not a cached box.
	if err := run(ctx, "cp", filepath.Join(work, "vmlinuz"), box.Kernel); err != nil {
		return Box{}, fmt.Errorf("box: %w", err)
	}
	if err := os.Rename(tmpBox, box.Path); err != nil {
		return Box{}, fmt.Errorf("box: %w", err)
	}
	logf("box: built %s in %s", box.Path, time.Since(start).Round(100*time.Millisecond))
	removeOtherBoxes(bs.Dir, box)
	return box, nil
}

// removeOtherBoxes deletes the boxes of older recipes: nothing uses them
// again, and each is 170 MB. A running lab has its own copy of its box.
func removeOtherBoxes(dir string, keep Box) {
	old, _ := filepath.Glob(filepath.Join(dir, "ferry-bookworm-*"))
	for _, p := range old {
		if p != keep.Path && p != keep.Kernel && (strings.HasSuffix(p, ".box") || strings.HasSuffix(p, ".vmlinuz")) {
			_ = os.Remove(p)
		}
	}
}

// directMirror turns a proxied mirror path back into the mirror's own URI.
func directMirror(srcs []AptSource, proxied string) string {
	for _, s := range srcs {
		if s.ProxyPath() == proxied {
			return strings.TrimSuffix(s.URI.String(), "/")
		}
	}
	return proxied
}

// directSources renders the controller's own sources for the lab's release,
// used only while building the box on the controller.
func directSources(srcs []AptSource) []byte {
	var b bytes.Buffer
	for _, s := range srcs {
		suites := s.releaseSuites()
		if len(suites) == 0 {
			continue
		}
		fmt.Fprintf(&b, "Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\n\n", s.URI, strings.Join(suites, " "), strings.Join(s.Components, " "))
	}
	return b.Bytes()
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
