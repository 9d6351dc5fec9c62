package sshx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"
)

// Backoff between connect attempts: doubling from the first, capped.
const (
	retryBackoff    = 250 * time.Millisecond
	maxRetryBackoff = 5 * time.Second
)

// Dial connects to the host described by cfg, through its bastions, and
// returns a Client that carries every later step over this one connection.
// Transport failures match executor.ErrUnreachable; Reason names them.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	hops, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	known := cfg.KnownHostsFile
	if known == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
		known = filepath.Join(home, ".ssh", "known_hosts")
	}
	d := &dialer{cfg: cfg, hops: hops, knownHosts: known, timeout: cfg.ConnectTimeout}
	if d.timeout <= 0 {
		d.timeout = DefaultConnectTimeout
	}
	auth := newAuthenticator(cfg)
	defer auth.close()
	d.auth = auth

	backoff := retryBackoff
	for attempt := 0; ; attempt++ {
		chain, err := d.dialChain(ctx)
		if err == nil {
			return newClient(cfg, hops[len(hops)-1], chain), nil
		}
		if attempt >= cfg.ConnectRetries || !retryable(err) || ctx.Err() != nil {
			return nil, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

type dialer struct {
	cfg        Config
	hops       []hop
	knownHosts string
	timeout    time.Duration
	auth       *authenticator
}

// dialChain connects hop after hop, each through the previous one, and
// returns the clients outermost first; the last one is the target.
func (d *dialer) dialChain(ctx context.Context) ([]*ssh.Client, error) {
	var chain []*ssh.Client
	closeAll := func() {
		for i := len(chain) - 1; i >= 0; i-- {
			chain[i].Close()
		}
	}
	for i, h := range d.hops {
		var via *ssh.Client
		if i > 0 {
			via = chain[i-1]
		}
		c, err := d.dialHop(ctx, h, via)
		if err != nil {
			closeAll()
			if i < len(d.hops)-1 {
				return nil, fmt.Errorf("via jump host: %w", err)
			}
			return nil, err
		}
		chain = append(chain, c)
	}
	return chain, nil
}

func (d *dialer) dialHop(ctx context.Context, h hop, via *ssh.Client) (*ssh.Client, error) {
	addr := h.addr()
	msg := fmt.Sprintf("connect %s (%s)", h.name, addr)
	if h.name == h.host {
		msg = "connect " + addr
	}
	method, err := d.auth.method(h.keys)
	if err != nil {
		return nil, unreachable(ReasonAuth, msg, err)
	}
	actx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	// failed tells a timeout or a cancellation apart from other errors:
	// closing the socket under a handshake only yields "EOF".
	failed := func(err error) error {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s: %w", msg, ctx.Err())
		}
		if actx.Err() != nil {
			return unreachable(ReasonTimeout, msg, fmt.Errorf("no answer within %s: %w", d.timeout, context.DeadlineExceeded))
		}
		return unreachable("", msg, err)
	}
	var conn net.Conn
	switch {
	case via != nil:
		conn, err = via.DialContext(actx, "tcp", addr)
	case d.cfg.DialContext != nil:
		conn, err = d.cfg.DialContext(actx, "tcp", addr)
	default:
		var nd net.Dialer
		conn, err = nd.DialContext(actx, "tcp", addr)
	}
	if err != nil {
		return nil, failed(err)
	}
	stop := context.AfterFunc(actx, func() { conn.Close() })
	hk := &hostKeyChecker{file: d.knownHosts, accept: d.cfg.AcceptNewHostKeys}
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User:              h.user,
		Auth:              []ssh.AuthMethod{method},
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: knownAlgorithms(d.knownHosts, addr),
	})
	if !stop() {
		// The deadline closed the socket; whatever the handshake said,
		// the cause is the deadline.
		if err == nil {
			sc.Close()
		}
		return nil, failed(err)
	}
	if err != nil {
		conn.Close()
		if hk.err != nil {
			return nil, unreachable(ReasonHostKey, msg, hk.err)
		}
		return nil, failed(err)
	}
	return ssh.NewClient(sc, chans, reqs), nil
}
