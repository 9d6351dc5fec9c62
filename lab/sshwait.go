package lab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshReady is what `systemctl is-system-running --wait` may print for a host
// that has finished booting. "degraded" (a unit failed) still makes a usable
// host; roles see and may fix the failed unit.
var sshReady = map[string]bool{"running": true, "degraded": true}

// waitSSH polls until the host answers SSH with the expected host key, takes
// the lab key, and reports that systemd finished booting. Nothing can be
// awaited before sshd listens, hence the poll; exited ends it early.
func (s Spec) waitSSH(ctx context.Context, h HostSpec, exited <-chan struct{}, timeout time.Duration) (string, error) {
	keyPEM, err := os.ReadFile(s.KeyFile)
	if err != nil {
		return "", fmt.Errorf("lab key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		return "", fmt.Errorf("lab key %s: %w", s.KeyFile, err)
	}
	hostKeys, err := knownhosts.New(s.KnownHostsFile)
	if err != nil {
		return "", fmt.Errorf("known_hosts %s: %w", s.KnownHostsFile, err)
	}
	cfg := &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		Timeout:         2 * time.Second,
	}
	addr := net.JoinHostPort(h.Address, "22")
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		state, err := bootState(ctx, addr, cfg)
		if err == nil && sshReady[state] {
			return state, nil
		}
		if err == nil {
			err = fmt.Errorf("systemd reports %q", state)
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("host %s (%s) not ready after %s: %w", h.Name, addr, timeout, lastErr)
		case <-exited:
			return "", fmt.Errorf("host %s: systemd-nspawn exited; console:\n%s", h.Name, s.consoleTail(h.Name))
		case <-tick.C:
		}
	}
}

// bootState logs in once and asks systemd whether booting is over. A host
// key mismatch is returned like any error; it never becomes trusted.
func bootState(ctx context.Context, addr string, cfg *ssh.ClientConfig) (string, error) {
	d := net.Dialer{Timeout: cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		return "", fmt.Errorf("ssh %s: %w", addr, err)
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return "", fmt.Errorf("ssh %s: session: %w", addr, err)
	}
	defer sess.Close()
	var out bytes.Buffer
	sess.Stdout = &out
	// A non-zero exit only means "not running"; the printed state decides.
	_ = sess.Run("systemctl is-system-running --wait")
	return strings.TrimSpace(out.String()), nil
}
