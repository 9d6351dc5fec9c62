package inventory

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// connPatch is a partial Connection: the settings one level (inventory,
// group, host) writes. Nil fields leave the level below in place, which a
// plain Connection cannot express for "become: false" or "port: 22".
type connPatch struct {
	User           *string
	Port           *int
	PrivateKey     *string
	KnownHosts     *string
	ProxyJump      *string
	Become         *bool
	BecomePassword *string
	BecomeUser     *string
	Timeout        *time.Duration
	// becomeAt is where become_password was written, to report a name that
	// is not a secret.
	becomeAt ref
}

// applyTo writes the patch onto c. Key paths are resolved against dir, the
// inventory's folder, so that the runner never depends on the working
// directory.
func (p connPatch) applyTo(c *Connection, dir string) {
	if p.User != nil {
		c.User = *p.User
	}
	if p.Port != nil {
		c.Port = *p.Port
	}
	if p.PrivateKey != nil {
		c.PrivateKey = resolvePath(dir, *p.PrivateKey)
	}
	if p.KnownHosts != nil {
		c.KnownHosts = resolvePath(dir, *p.KnownHosts)
	}
	if p.ProxyJump != nil {
		c.ProxyJump = *p.ProxyJump
	}
	if p.Become != nil {
		c.Become = *p.Become
	}
	if p.BecomePassword != nil {
		c.BecomePasswordVar = *p.BecomePassword
	}
	if p.BecomeUser != nil {
		c.BecomeUser = *p.BecomeUser
	}
	if p.Timeout != nil {
		c.Timeout = *p.Timeout
	}
}

// resolvePath keeps absolute and home-relative paths and anchors the rest in
// the inventory's folder, as an absolute path: whoever uses it later need
// not know where the inventory was, nor which folder ferry ran in.
func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) || p == "~" || strings.HasPrefix(p, "~/") {
		return p
	}
	joined := filepath.Join(dir, p)
	if abs, err := filepath.Abs(joined); err == nil {
		return abs
	}
	return joined
}

// parsePort accepts 1..65535.
func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%d is out of range 1-65535", n)
	}
	return n, nil
}

// parseTimeout accepts a Go duration ("10s", "1m30s") that is positive.
func parseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration like \"10s\"", s)
	}
	return d, nil
}

// Ansible's connection variables and what they become. They are settings,
// not template data, so they are taken out of the vars.
var ansibleConnVars = map[string]string{
	"ansible_host":                 "address",
	"ansible_ssh_host":             "address",
	"ansible_port":                 "port",
	"ansible_ssh_port":             "port",
	"ansible_user":                 "user",
	"ansible_ssh_user":             "user",
	"ansible_ssh_private_key_file": "private_key",
	"ansible_private_key_file":     "private_key",
	"ansible_become":               "become",
	"ansible_become_user":          "become_user",
	"ansible_become_password":      "become_password_ref",
	"ansible_become_pass":          "become_password_ref",
	"ansible_ssh_common_args":      "ssh_args",
}

// secretRefRe matches "{{ name }}", the Ansible way to point a password at a
// vaulted variable; ferry keeps only the name.
// becomeUserRe is a plain user name: it goes into a command line.
var becomeUserRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*\$?$`)

var secretRefRe = regexp.MustCompile(`^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$`)

// setConn applies one connection setting, named as in ferry's YAML
// (`connection:` keys) or through ansibleConnVars, to p. It returns a message
// when the value is invalid.
func setConn(p *connPatch, key string, value any, at ref) error {
	s := scalarString(value)
	switch key {
	case "user":
		p.User = &s
	case "port":
		n, err := parsePort(s)
		return assign(&p.Port, n, err)
	case "private_key":
		p.PrivateKey = &s
	case "known_hosts":
		p.KnownHosts = &s
	case "proxy_jump":
		p.ProxyJump = &s
	case "become":
		b, err := parseBool(value)
		return assign(&p.Become, b, err)
	case "become_password", "become_password_ref":
		// A literal password here would sit in plain text; ferry wants the
		// name of a secret. Ansible's variable holds the password itself, so
		// there only the "{{ name }}" form can be told from a password.
		// Neither message repeats the value: it may be a password.
		if m := secretRefRe.FindStringSubmatch(s); m != nil {
			s = m[1]
		} else if key == "become_password_ref" {
			return fmt.Errorf("write \"{{ secret_name }}\" naming a key of the secrets file, not the password (plain-text passwords are refused on purpose)")
		} else if !validVarName(s) {
			return fmt.Errorf("must name a secret (a key of the secrets file), not hold a password")
		}
		p.BecomePassword = &s
		p.becomeAt = at
	case "become_user":
		if !becomeUserRe.MatchString(s) {
			return fmt.Errorf("%q is not a user name (letters, digits, _, . and -)", s)
		}
		p.BecomeUser = &s
	case "timeout":
		d, err := parseTimeout(s)
		return assign(&p.Timeout, d, err)
	case "ssh_args":
		return sshArgs(p, s)
	default:
		return fmt.Errorf("unknown connection setting %q", key)
	}
	return nil
}

// assign sets a setting to the value parsed from its text, unless parsing
// failed (err is not nil): then it stays as it was and err is returned.
func assign[T any](setting **T, v T, err error) error {
	if err == nil {
		*setting = &v
	}
	return err
}

const sshArgsOnly = "only -J HOST, -o ProxyJump=HOST and -o UserKnownHostsFile=PATH are supported, found %q: " +
	"other ssh options are refused on purpose, since some weaken host-key checking; put the rest in ~/.ssh/config"

// sshArgs reads ansible_ssh_common_args. Only a jump host and a known_hosts
// file are understood; any other ssh option is refused rather than silently
// dropped, since options like StrictHostKeyChecking change security.
func sshArgs(p *connPatch, args string) error {
	f := strings.Fields(args)
	for i := 0; i < len(f); i++ {
		a, shown := f[i], f[i]
		if a == "-J" || a == "-o" {
			if i+1 == len(f) {
				return fmt.Errorf("%s needs a value", a)
			}
			i++
			a, shown = a+f[i], a+" "+f[i]
		}
		var key, val string
		switch {
		case strings.HasPrefix(a, "-J"):
			key, val = "proxyjump", a[2:]
		case strings.HasPrefix(a, "-o"):
			k, v, ok := strings.Cut(a[2:], "=")
			if !ok {
				return fmt.Errorf("ssh option %q: write -o Name=value", shown)
			}
			key, val = strings.ToLower(k), v
		default:
			return fmt.Errorf(sshArgsOnly, shown)
		}
		val = strings.Trim(val, `"'`)
		switch {
		case val == "":
			return fmt.Errorf("ssh option %q has no value", shown)
		case key == "proxyjump":
			p.ProxyJump = &val
		case key == "userknownhostsfile":
			p.KnownHosts = &val
		default:
			return fmt.Errorf(sshArgsOnly, shown)
		}
	}
	return nil
}

// parseBool accepts YAML booleans and the strings Ansible's INI accepts.
func parseBool(v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	switch strings.ToLower(scalarString(v)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", scalarString(v))
}

// scalarString renders a decoded scalar the way it was written.
func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		// As Python's str(): 5.0, not 5.
		b, _ := jsonFloat(x).MarshalJSON()
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

// refusedVar reports an Ansible variable ferry cannot honour and would
// otherwise ignore, which would send the deploy somewhere or somehow else
// than the inventory says. The value is not repeated: it may be a password.
func refusedVar(key string, value any) error {
	switch key {
	case "ansible_connection":
		switch scalarString(value) {
		case "ssh", "smart", "paramiko":
			return nil
		}
		return fmt.Errorf("ferry connects over SSH only; ansible_connection=%s is refused rather than ignored", scalarString(value))
	case "ansible_password", "ansible_ssh_pass", "ansible_ssh_password":
		return fmt.Errorf("ferry logs in with keys (ansible_ssh_private_key_file or ssh-agent); an SSH password is refused rather than ignored")
	}
	return nil
}
