package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Files the Vagrant provider writes into the state dir.
const (
	vagrantFile      = "vagrant-ssh.json"
	vagrantSSHConfig = "vagrant-ssh-config"
)

// VagrantHost is how Vagrant itself reaches one machine (its forwarded port
// and its per-machine key), parsed from `vagrant ssh-config`.
type VagrantHost struct {
	Name         string `json:"name"`
	HostName     string `json:"host"`
	Port         int    `json:"port"`
	User         string `json:"user"`
	IdentityFile string `json:"identity_file"`
}

// ParseSSHConfig reads the output of `vagrant ssh-config`: one "Host" block
// per machine. Keywords are case-insensitive and values may be quoted, as in
// ssh_config(5); options ferry does not need are ignored.
func ParseSSHConfig(data []byte) ([]VagrantHost, error) {
	var out []VagrantHost
	var cur *VagrantHost
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, " ")
		if !ok {
			key, val, ok = strings.Cut(line, "=")
		}
		if !ok {
			return nil, fmt.Errorf("ssh-config line %d: %q has no value", n, line)
		}
		key, val = strings.ToLower(strings.TrimSpace(key)), unquote(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(val), "=")))
		if key == "host" {
			out = append(out, VagrantHost{Name: val, Port: 22})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("ssh-config line %d: %q before any Host", n, line)
		}
		switch key {
		case "hostname":
			cur.HostName = val
		case "user":
			cur.User = val
		case "port":
			p, err := strconv.Atoi(val)
			if err != nil || p <= 0 || p > 65535 {
				return nil, fmt.Errorf("ssh-config line %d: port %q", n, val)
			}
			cur.Port = p
		case "identityfile":
			if cur.IdentityFile == "" { // ssh uses the first one given
				cur.IdentityFile = val
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ssh-config: %w", err)
	}
	for _, h := range out {
		if h.HostName == "" {
			return nil, fmt.Errorf("ssh-config: host %s has no HostName", h.Name)
		}
	}
	return out, nil
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// VagrantUp builds the lab as Vagrant machines from the Vagrantfile in dir.
// The lab key and every host's sshd key are made on the controller first and
// installed by the Vagrantfile's provisioner, so the lab's inventory
// connection (root, lab key, known_hosts) works unchanged; Vagrant's own SSH
// settings are saved to the state dir as well.
func VagrantUp(ctx context.Context, spec Spec, dir string) error {
	s, err := spec.withDefaults()
	if err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if _, err := exec.LookPath("vagrant"); err != nil {
		return fmt.Errorf("the vagrant provider needs vagrant and a VM provider (VirtualBox or libvirt): %w", err)
	}
	if err := os.MkdirAll(s.StateDir, 0o700); err != nil {
		return fmt.Errorf("state dir %s: %w", s.StateDir, err)
	}
	if err := ensureKey(ctx, s.KeyFile, "ferry-lab"); err != nil {
		return err
	}
	for _, h := range s.Hosts {
		if err := s.ensureHostKey(ctx, h.Name); err != nil {
			return err
		}
	}
	if err := s.writeKnownHosts(); err != nil {
		return err
	}
	vagrant := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "vagrant", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "FERRY_LAB_STATE="+s.StateDir)
		return cmd
	}
	up := vagrant("up")
	up.Stdout, up.Stderr = s.Log, s.Log
	if err := up.Run(); err != nil {
		return fmt.Errorf("vagrant up in %s: %w", dir, err)
	}
	raw, err := vagrant("ssh-config").Output()
	if err != nil {
		return fmt.Errorf("vagrant ssh-config in %s: %w", dir, err)
	}
	hosts, err := ParseSSHConfig(raw)
	if err != nil {
		return err
	}
	if err := saveVagrantHosts(s.StateDir, raw, hosts); err != nil {
		return err
	}
	for _, h := range s.Hosts {
		if _, err := s.waitSSH(ctx, h, nil, 2*time.Minute); err != nil {
			return fmt.Errorf("vagrant host %s on its private address: %w", h.Name, err)
		}
	}
	return nil
}

// saveVagrantHosts writes the raw ssh-config (usable with `ssh -F`) and the
// parsed settings as JSON.
func saveVagrantHosts(stateDir string, raw []byte, hosts []VagrantHost) error {
	data, err := json.MarshalIndent(map[string]any{"hosts": hosts}, "", "  ")
	if err != nil {
		return fmt.Errorf("vagrant hosts: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(stateDir, vagrantSSHConfig), raw, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(stateDir, vagrantFile), append(data, '\n'), 0o600)
}

// VagrantDown destroys the lab's Vagrant machines and the state files the
// Vagrant provider wrote.
func VagrantDown(ctx context.Context, spec Spec, dir string) error {
	s, err := spec.withDefaults()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("vagrant"); err != nil {
		return fmt.Errorf("the vagrant provider needs vagrant: %w", err)
	}
	cmd := exec.CommandContext(ctx, "vagrant", "destroy", "-f")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FERRY_LAB_STATE="+s.StateDir)
	cmd.Stdout, cmd.Stderr = s.Log, s.Log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("vagrant destroy in %s: %w", dir, err)
	}
	var errs []error
	for _, f := range []string{vagrantFile, vagrantSSHConfig, "known_hosts", "id_ed25519", "id_ed25519.pub"} {
		if err := os.Remove(filepath.Join(s.StateDir, f)); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	if err := removeTree(filepath.Join(s.StateDir, "hosts")); err != nil {
		errs = append(errs, err)
	}
	_ = os.Remove(s.StateDir)
	return errors.Join(errs...)
}
