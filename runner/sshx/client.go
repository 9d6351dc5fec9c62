package sshx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// maxSessions bounds concurrent sessions on one connection: OpenSSH's
// MaxSessions defaults to 10, and the SFTP client holds one more.
const maxSessions = 8

// Client is one SSH connection to one host. It is safe for concurrent use:
// a Run goes through the connection's persistent shell when that is idle,
// else through a session of its own on the shared connection.
type Client struct {
	cfg    Config // as given to Dial, for reconnecting to clean up
	target hop
	ssh    *ssh.Client
	chain  []*ssh.Client // bastions then target, closed in reverse
	sem    chan struct{}
	done   chan struct{} // closed when the connection is gone
	lost   chan struct{} // closed when keepalives went unanswered

	closeOnce sync.Once
	closeErr  error

	sftpMu sync.Mutex
	sftp   *sftp.Client

	sudoMu   sync.Mutex
	sudoKind sudoKind

	// Persistent shells (shell.go): the login user's, and root's through
	// sudo -n. shellMu is only ever tried, never waited for.
	shellMu  sync.Mutex
	shells   [2]*shell
	shellOff [2]atomic.Bool // this kind of shell failed to start here
}

var _ executor.Executor = (*Client)(nil)

func newClient(cfg Config, target hop, chain []*ssh.Client) *Client {
	c := &Client{
		cfg:    cfg,
		target: target,
		ssh:    chain[len(chain)-1],
		chain:  chain,
		sem:    make(chan struct{}, maxSessions),
		done:   make(chan struct{}),
		lost:   make(chan struct{}),
	}
	go func() {
		_ = c.ssh.Wait()
		close(c.done)
	}()
	interval := cfg.KeepaliveInterval
	if interval == 0 {
		interval = DefaultKeepaliveInterval
	}
	if interval > 0 {
		go c.keepalive(interval)
	}
	return c
}

// Host returns the name the client reports in messages.
func (c *Client) Host() string { return c.target.name }

// User returns the remote login user.
func (c *Client) User() string { return c.target.user }

// Close ends the connection and its bastions' connections.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.sftpMu.Lock()
		if c.sftp != nil {
			c.sftp.Close()
		}
		c.sftpMu.Unlock()
		for i := len(c.chain) - 1; i >= 0; i-- {
			if err := c.chain[i].Close(); err != nil && !errors.Is(err, net.ErrClosed) && c.closeErr == nil {
				c.closeErr = fmt.Errorf("close %s: %w", c.target.name, err)
			}
		}
		<-c.done
	})
	return c.closeErr
}

// keepalive probes the server and drops a connection that stopped
// answering, so that steps fail fast instead of hanging on a dead peer.
func (c *Client) keepalive(interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		t := time.NewTimer(3 * interval)
		select {
		case err := <-reply:
			t.Stop()
			if err != nil {
				c.ssh.Close()
				return
			}
		case <-t.C:
			close(c.lost)
			c.ssh.Close()
			return
		case <-c.done:
			t.Stop()
			return
		}
	}
}

// transport wraps a failure of the connection itself.
func (c *Client) transport(op string, err error) error {
	reason := ""
	// lost is tested on its own first: once keepalives closed the
	// connection both channels are closed, and a select between them would
	// pick either.
	select {
	case <-c.lost:
		reason = ReasonTimeout
	default:
		select {
		case <-c.done:
			reason = ReasonConnectionLost
		default:
			if r := classify(err); r == ReasonUnknown {
				// Whatever broke a session or SFTP exchange broke the
				// connection's usefulness for this step.
				reason = ReasonConnectionLost
			}
		}
	}
	return unreachable(reason, op+" on "+c.target.name, err)
}

// acquire takes a session slot.
func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.transport("open session", errors.New("connection lost"))
	}
}

func (c *Client) release() { <-c.sem }

// sftpClient opens the SFTP client on first use and reuses it.
func (c *Client) sftpClient() (*sftp.Client, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	sc, err := sftp.NewClient(c.ssh)
	if err != nil {
		return nil, c.transport("sftp", err)
	}
	c.sftp = sc
	return sc, nil
}

// sftpFailed wraps an SFTP error: a transport failure if the connection
// or the SFTP session is gone, else a plain error naming the operation.
func (c *Client) sftpFailed(op string, err error) error {
	select {
	case <-c.done:
		return c.transport(op, err)
	default:
	}
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) || classify(err) == ReasonConnectionLost {
		c.sftpMu.Lock()
		if c.sftp != nil {
			c.sftp.Close()
			c.sftp = nil // a later step may open a fresh one
		}
		c.sftpMu.Unlock()
		return c.transport(op, err)
	}
	return fmt.Errorf("%s on %s: %w", op, c.target.name, err)
}
