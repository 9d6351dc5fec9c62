package sshx

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// hop is one resolved SSH connection on the way to the target.
type hop struct {
	name string // for messages: the inventory name or the bastion address
	host string
	port int
	user string
	keys []string
}

func (h hop) addr() string { return net.JoinHostPort(h.host, strconv.Itoa(h.port)) }

// resolve applies ssh_config and defaults, returning the hops to dial:
// bastions first, the target last.
func (cfg Config) resolve() ([]hop, error) {
	jumps := cfg.Jump
	if len(jumps) == 0 && cfg.ProxyJump != "" {
		var err error
		if jumps, err = ParseJump(cfg.ProxyJump); err != nil {
			return nil, err
		}
	}
	sc, err := loadSSHConfig(cfg.SSHConfigFile)
	if err != nil {
		return nil, err
	}
	alias := cfg.Address
	if alias == "" {
		alias = cfg.Host
	}
	if alias == "" {
		return nil, errors.New("ssh: no host address")
	}
	target := lookupHop(sc, alias, cfg.Port, cfg.User, cfg.PrivateKeys)
	target.name = cfg.Host
	if target.user == "" {
		target.user = localUser()
	}
	if target.name == "" {
		target.name = alias
	}
	if len(target.keys) == 0 {
		target.keys = defaultIdentities()
	}
	if len(jumps) == 0 {
		if spec := sshGet(sc, alias, "ProxyJump"); spec != "" {
			if jumps, err = ParseJump(spec); err != nil {
				return nil, fmt.Errorf("ssh config ProxyJump for %s: %w", alias, err)
			}
		}
	}
	hops := make([]hop, 0, len(jumps)+1)
	for _, j := range jumps {
		h := lookupHop(sc, j.Address, j.Port, j.User, j.PrivateKeys)
		h.name = j.Address
		if h.user == "" {
			h.user = target.user
		}
		if len(h.keys) == 0 {
			h.keys = target.keys
		}
		hops = append(hops, h)
	}
	return append(hops, target), nil
}

// lookupHop fills what the caller left empty from ssh_config, then the
// default port; an empty user is left for the caller to default.
func lookupHop(sc *ssh_config.Config, alias string, port int, usr string, keys []string) hop {
	h := hop{host: alias, port: port, user: usr, keys: keys}
	if hn := sshGet(sc, alias, "HostName"); hn != "" {
		h.host = strings.ReplaceAll(hn, "%h", alias)
	}
	if h.port == 0 {
		if p, err := strconv.Atoi(sshGet(sc, alias, "Port")); err == nil && p > 0 {
			h.port = p
		} else {
			h.port = DefaultPort
		}
	}
	if h.user == "" {
		h.user = sshGet(sc, alias, "User")
	}
	if len(h.keys) == 0 && sc != nil {
		// ssh skips identity files that do not exist; so do we.
		ids, _ := sc.GetAll(alias, "IdentityFile")
		for _, id := range ids {
			p := expandHome(id)
			if _, err := os.Stat(p); err == nil {
				h.keys = append(h.keys, p)
			}
		}
	}
	return h
}

// defaultIdentities are the key files ssh tries when none are configured.
func defaultIdentities() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var keys []string
	for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(home, ".ssh", n)
		if _, err := os.Stat(p); err == nil {
			keys = append(keys, p)
		}
	}
	return keys
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// loadSSHConfig reads an ssh_config file; a missing default file is no
// error, a missing explicit one is.
func loadSSHConfig(path string) (*ssh_config.Config, error) {
	if path == "none" {
		return nil, nil
	}
	explicit := path != ""
	if !explicit {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil
		}
		path = filepath.Join(home, ".ssh", "config")
	}
	f, err := os.Open(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("ssh config %s: %w", path, err)
	}
	defer f.Close()
	sc, err := ssh_config.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("ssh config %s: %w", path, err)
	}
	return sc, nil
}

func sshGet(sc *ssh_config.Config, alias, key string) string {
	if sc == nil {
		return ""
	}
	v, _ := sc.Get(alias, key)
	if strings.EqualFold(v, "none") {
		return ""
	}
	return v
}

// ParseJump parses a ProxyJump list, "[user@]host[:port][,...]", outermost
// bastion first. "none" or "" yields no bastions.
func ParseJump(spec string) ([]JumpHost, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || strings.EqualFold(spec, "none") {
		return nil, nil
	}
	var out []JumpHost
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		var j JumpHost
		if i := strings.LastIndex(part, "@"); i >= 0 {
			j.User, part = part[:i], part[i+1:]
		}
		host := part
		if strings.HasPrefix(part, "[") || strings.Count(part, ":") == 1 {
			h, p, err := net.SplitHostPort(part)
			if err != nil {
				return nil, fmt.Errorf("jump host %q: %w", part, err)
			}
			port, err := strconv.Atoi(p)
			if err != nil || port <= 0 || port > 65535 {
				return nil, fmt.Errorf("jump host %q: bad port %q", part, p)
			}
			host, j.Port = h, port
		}
		if host == "" {
			return nil, fmt.Errorf("jump host %q: no host", part)
		}
		j.Address = host
		out = append(out, j)
	}
	return out, nil
}
