package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// basePackages are installed into the base on top of minbase: what a host
// needs to boot under systemd and be managed over SSH. Roles install the rest.
var basePackages = []string{
	"systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "sudo",
	"ca-certificates", "procps",
}

// baseStamp marks a complete base and records what it was built from; a
// base with another stamp is rebuilt.
const baseStampPath = "etc/ferry-lab-base"

func baseStamp() string {
	return fmt.Sprintf("suite=%s packages=%s format=1\n", Suite, strings.Join(basePackages, ","))
}

// ensureBase returns once dir holds a complete base root filesystem, building
// it with debootstrap if needed. The build goes to a sibling temp dir that is
// renamed into place only when complete, so a crash never leaves a half base.
func ensureBase(ctx context.Context, dir, mirror string, log func(string, ...any)) error {
	if stamp, err := os.ReadFile(filepath.Join(dir, baseStampPath)); err == nil && string(stamp) == baseStamp() {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("base dir %s: %w", parent, err)
	}
	// One builder at a time; a second `lab up` waits rather than racing.
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("lock base %s: %w", dir, err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("lock base %s: %w", dir, err)
	}
	if stamp, err := os.ReadFile(filepath.Join(dir, baseStampPath)); err == nil && string(stamp) == baseStamp() {
		return nil // built by whoever held the lock
	}
	// Leftovers of crashed builds may still have proc or dev mounted.
	stale, _ := filepath.Glob(dir + ".tmp-*")
	for _, s := range stale {
		if err := removeTree(s); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("base temp dir: %w", err)
	}
	defer removeTree(tmp) // a no-op after the rename
	log("base: debootstrap %s from %s into %s (once; cached)", Suite, mirror, dir)
	if err := run(ctx, "debootstrap", "--variant=minbase", "--include="+strings.Join(basePackages, ","), Suite, tmp, mirror); err != nil {
		return fmt.Errorf("build base %s: %w", dir, err)
	}
	if err := finishBase(tmp); err != nil {
		return fmt.Errorf("build base %s: %w", dir, err)
	}
	if _, err := os.Stat(dir); err == nil {
		// An outdated base: move it aside first so the rename is atomic.
		old := dir + ".tmp-old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("replace base %s: %w", dir, err)
		}
		defer removeTree(old)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("install base %s: %w", dir, err)
	}
	return nil
}

// finishBase strips what must differ per host, so a host that misses its own
// setup fails loudly instead of sharing keys or identity with the others.
func finishBase(root string) error {
	keys, _ := filepath.Glob(filepath.Join(root, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		if err := os.Remove(k); err != nil {
			return fmt.Errorf("remove base host key: %w", err)
		}
	}
	for path, content := range map[string]string{
		"etc/machine-id": "",
		"etc/hostname":   "",
		// The controller's mirror is unreachable from hosts; each host gets
		// proxy sources instead.
		"etc/apt/sources.list": "",
		"etc/resolv.conf":      "",
		// Hosts download only through the lab proxy; translations are noise.
		"etc/apt/apt.conf.d/80ferry-lab": "Acquire::Languages \"none\";\n",
	} {
		p := filepath.Join(root, path)
		// resolv.conf may be a symlink into the controller's /run.
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reset %s: %w", path, err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("reset %s: %w", path, err)
		}
	}
	// debootstrap leaves the downloaded packages; every host would carry them.
	debs, _ := filepath.Glob(filepath.Join(root, "var/cache/apt/archives/*.deb"))
	for _, d := range debs {
		_ = os.Remove(d)
	}
	return os.WriteFile(filepath.Join(root, baseStampPath), []byte(baseStamp()), 0o644)
}
