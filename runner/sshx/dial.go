package sshx

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Backoff between connect attempts: doubling from the first, capped.
const (
	retryBackoff    = 250 * time.Millisecond
	maxRetryBackoff = 5 * time.Second
)

// A connection closed or reset during the handshake is what an sshd under
// load does (OpenSSH's MaxStartups drops connections beyond 10 unfinished
// handshakes): it is retried resetRetries times whatever ConnectRetries
// says, with a jittered backoff capped at maxResetBackoff.
const (
	resetRetries    = 6
	maxResetBackoff = 2 * time.Second
)

// maxJumpHandshakes bounds the handshakes in progress with one jump host
// from this process: every target behind a bastion opens its own
// connection to it, and many at once would trip the bastion's MaxStartups.
const maxJumpHandshakes = 8

// jumpSlots holds one semaphore per jump host address.
var jumpSlots = struct {
	sync.Mutex
	m map[string]chan struct{}
}{m: map[string]chan struct{}{}}

// jumpSlot takes a handshake slot for a jump host; release gives it back.
func jumpSlot(ctx context.Context, addr string) (release func(), err error) {
	jumpSlots.Lock()
	sem, ok := jumpSlots.m[addr]
	if !ok {
		sem = make(chan struct{}, maxJumpHandshakes)
		jumpSlots.m[addr] = sem
	}
	jumpSlots.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

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
	attempts, resets := 0, 0
	for {
		chain, err := d.dialChain(ctx)
		if err == nil {
			return newClient(cfg, hops[len(hops)-1], chain), nil
		}
		wait := backoff
		switch {
		case ctx.Err() != nil || !retryable(err):
			return nil, err
		case Reason(err) == ReasonConnectionLost && resets < resetRetries:
			resets++
			// Jitter spreads the retries of many hosts dropped at once.
			wait = min(backoff, maxResetBackoff)
			wait = wait/2 + rand.N(wait/2+1)
		case attempts < cfg.ConnectRetries:
			attempts++
		default:
			return nil, err
		}
		t := time.NewTimer(wait)
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
		var c *ssh.Client
		var err error
		if i == 0 && len(d.hops) > 1 {
			var release func()
			if release, err = jumpSlot(ctx, h.addr()); err != nil {
				closeAll()
				return nil, fmt.Errorf("connect via %s: %w", h.name, err)
			}
			c, err = d.dialHop(ctx, h, via)
			release()
		} else {
			c, err = d.dialHop(ctx, h, via)
		}
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
