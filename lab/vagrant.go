package lab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
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
