package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ensureKey creates an unencrypted ed25519 key pair at path unless one is
// there; the lab is disposable and must run unattended.
func ensureKey(ctx context.Context, path, comment string) error {
	if _, err := os.Stat(path); err == nil {
		if _, err := os.Stat(path + ".pub"); err == nil {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("key dir for %s: %w", path, err)
	}
	for _, p := range []string{path, path + ".pub"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("replace half key %s: %w", p, err)
		}
	}
	if err := run(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path); err != nil {
		return fmt.Errorf("generate key %s: %w", path, err)
	}
	return nil
}

// ensureKeys makes what the lab's ssh trusts, each unless it exists: the
// controller's login key, every host's sshd key, and the known_hosts that
// pins those host keys.
func (s Spec) ensureKeys(ctx context.Context) error {
	if err := ensureKey(ctx, s.KeyFile, "ferry-lab"); err != nil {
		return err
	}
	for _, h := range s.Hosts {
		if err := s.ensureHostKey(ctx, h.Name); err != nil {
			return err
		}
	}
	return s.writeKnownHosts()
}

// hostKeyFile is where a host's sshd key is generated on the controller;
// the controller knows it before the host boots, so nothing is trusted on
// first use.
func (s Spec) hostKeyFile(name string) string {
	return filepath.Join(s.hostDir(name), "ssh", "ssh_host_ed25519_key")
}

// ensureHostKey gives a host its own sshd key.
func (s Spec) ensureHostKey(ctx context.Context, name string) error {
	return ensureKey(ctx, s.hostKeyFile(name), "root@"+name)
}

// knownHosts renders one line per host, under both its address and its
// name, from the host keys on the controller.
func (s Spec) knownHosts() ([]byte, error) {
	var b bytes.Buffer
	for _, h := range s.Hosts {
		pub, err := os.ReadFile(s.hostKeyFile(h.Name) + ".pub")
		if err != nil {
			return nil, fmt.Errorf("host key of %s: %w", h.Name, err)
		}
		f := strings.Fields(string(pub))
		if len(f) < 2 {
			return nil, fmt.Errorf("host key of %s: malformed %s.pub", h.Name, s.hostKeyFile(h.Name))
		}
		fmt.Fprintf(&b, "%s,%s %s %s\n", h.Address, h.Name, f[0], f[1])
	}
	return b.Bytes(), nil
}

// writeKnownHosts rewrites the lab's known_hosts when its content changed.
func (s Spec) writeKnownHosts() error {
	data, err := s.knownHosts()
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(s.KnownHostsFile); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.KnownHostsFile), 0o700); err != nil {
		return fmt.Errorf("known_hosts dir: %w", err)
	}
	return writeFileAtomic(s.KnownHostsFile, data, 0o644)
}
