// Package hostconn builds the transport's configuration for an inventory
// host. The SSH transport (runner/sshx) takes a narrow Config and never
// imports the inventory; the mapping from the domain model lives here, with
// the callers that own both.
package hostconn

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// SSHConfig maps an inventory host's effective connection onto an
// sshx.Config. Relative key and known_hosts paths are resolved against
// baseDir (the inventory's folder); the sudo password is the secret named
// by BecomePasswordVar. A bad ProxyJump is reported by sshx.Dial.
func SSHConfig(h *inventory.Host, secrets map[string]string, baseDir string) sshx.Config {
	conn := h.Conn
	cfg := sshx.Config{
		Host:           h.Name,
		Address:        h.Address,
		Port:           conn.Port,
		User:           conn.User,
		UseAgent:       true,
		ConnectTimeout: conn.Timeout,
		ProxyJump:      conn.ProxyJump,
	}
	if conn.PrivateKey != "" {
		cfg.PrivateKeys = []string{resolvePath(baseDir, conn.PrivateKey)}
	}
	if conn.KnownHosts != "" {
		cfg.KnownHostsFile = resolvePath(baseDir, conn.KnownHosts)
	}
	if conn.BecomePasswordVar != "" {
		cfg.SudoPassword = secrets[conn.BecomePasswordVar]
	}
	return cfg
}

// resolvePath expands "~/" and makes p relative to baseDir.
func resolvePath(baseDir, p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if filepath.IsAbs(p) || baseDir == "" {
		return p
	}
	return filepath.Join(baseDir, p)
}
