// Package sshx is ferry's SSH transport: one connection per host carries
// every command (a persistent remote shell, plus sessions for commands it
// cannot take or that run in parallel) and one lazily opened SFTP client,
// with host keys verified against known_hosts by default.
// *Client implements executor.Executor.
package sshx

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Defaults applied by Dial to zero Config fields.
const (
	DefaultConnectTimeout    = 10 * time.Second
	DefaultKeepaliveInterval = 15 * time.Second
	DefaultPort              = 22
)

// PassphraseEnv is read by the default Config.Passphrase.
const PassphraseEnv = "FERRY_SSH_PASSPHRASE"

// Config says how to reach one host. Zero fields take ssh_config's value for
// the host, then ferry's defaults.
type Config struct {
	// Host names the target in messages and errors (the inventory name).
	Host string
	// Address is the DNS name or IP to connect to; empty means Host.
	// An ssh_config HostName for it takes precedence, as with ssh.
	Address string
	// Port is the SSH port; 0 means ssh_config's Port, else 22.
	Port int
	// User logs in; empty means ssh_config's User, else the local user.
	User string
	// PrivateKeys are private key files, offered before agent keys.
	PrivateKeys []string
	// Passphrase returns the passphrase of an encrypted key file; nil
	// reads the environment variable FERRY_SSH_PASSPHRASE.
	Passphrase func(path string) ([]byte, error)
	// UseAgent offers the keys of the ssh-agent at $SSH_AUTH_SOCK, if set.
	UseAgent bool
	// KnownHostsFile verifies host keys; empty means ~/.ssh/known_hosts.
	KnownHostsFile string
	// AcceptNewHostKeys records the key of a host seen for the first time
	// (trust on first use). A changed key is refused regardless.
	AcceptNewHostKeys bool
	// ConnectTimeout bounds TCP connect plus SSH handshake, per hop and
	// per attempt; 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// KeepaliveInterval is how often an idle connection is probed; after
	// three unanswered intervals it counts as lost. 0 means
	// DefaultKeepaliveInterval, negative disables keepalives.
	KeepaliveInterval time.Duration
	// ConnectRetries is how many more times a failed connect is tried, with
	// backoff. Auth and host key failures are never retried.
	ConnectRetries int
	// Jump lists bastions to pass through, outermost first (ssh -J).
	Jump []JumpHost
	// ProxyJump is a bastion list as ssh -J takes it,
	// "[user@]host[:port][,...]", used when Jump is empty; Dial reports a
	// bad one.
	ProxyJump string
	// NoPersistentShell runs every command in a session of its own, as
	// ssh does, instead of reusing one long-lived remote shell per
	// connection for commands without stdin. Set it where one long-lived
	// process is unwelcome: a ForceCommand or session-recording setup that
	// expects one command per session, per-command sudo logging (the root
	// shell runs sudo once), or to rule the shell out while debugging.
	NoPersistentShell bool
	// SudoPassword answers sudo's prompt for Become. It is a secret: sent
	// on stdin only, never on a command line, in an error or a log.
	SudoPassword string
	// DialContext opens the TCP connection to the first hop; nil uses
	// net.Dialer. Tests and custom proxies inject their own.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// SSHConfigFile is read for HostName, User, Port, IdentityFile and
	// ProxyJump; empty means ~/.ssh/config, "none" reads nothing (ssh -F none).
	SSHConfigFile string
}

// JumpHost is one bastion on the way to the target. Its host key is checked
// against the same known_hosts file as the target's.
type JumpHost struct {
	// Address is the bastion's DNS name or IP (or an ssh_config alias).
	Address string
	// Port is the bastion's SSH port; 0 means ssh_config's, else 22.
	Port int
	// User logs in to the bastion; empty means the target's user.
	User string
	// PrivateKeys for the bastion; empty means the target's keys.
	PrivateKeys []string
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// String shows the Config without its secret, for logs and %v.
func (cfg Config) String() string {
	pw := ""
	if cfg.SudoPassword != "" {
		pw = "<redacted>"
	}
	return fmt.Sprintf("sshx.Config{Host:%q Address:%q Port:%d User:%q PrivateKeys:%q KnownHostsFile:%q Jump:%+v ProxyJump:%q SudoPassword:%s}",
		cfg.Host, cfg.Address, cfg.Port, cfg.User, cfg.PrivateKeys, cfg.KnownHostsFile, cfg.Jump, cfg.ProxyJump, pw)
}

// GoString keeps %#v from printing the sudo password.
func (cfg Config) GoString() string { return cfg.String() }
