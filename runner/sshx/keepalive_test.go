package sshx_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// freezableConn stands for a peer that vanished without a FIN (a pulled
// cable): once frozen, nothing more arrives and writes go nowhere.
type freezableConn struct {
	net.Conn
	frozen chan struct{}
	closed chan struct{}
	once   sync.Once
}

func (c *freezableConn) Read(p []byte) (int, error) {
	select {
	case <-c.frozen:
		<-c.closed
		return 0, net.ErrClosed
	default:
		return c.Conn.Read(p)
	}
}

func (c *freezableConn) Write(p []byte) (int, error) {
	select {
	case <-c.frozen:
		return len(p), nil
	default:
		return c.Conn.Write(p)
	}
}

func (c *freezableConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func TestKeepaliveDetectsDeadPeer(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.KeepaliveInterval = 20 * time.Millisecond
	var conn *freezableConn
	cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn = &freezableConn{Conn: c, frozen: make(chan struct{}), closed: make(chan struct{})}
		return conn, nil
	}
	c := dial(t, cfg)
	run(t, c, executor.Command{Script: "true"})
	// A read already in flight may still deliver one reply; every later
	// keepalive meets silence.
	close(conn.frozen)
	select {
	case <-conn.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("keepalive did not close a silent connection")
	}
	_, err := c.Run(context.Background(), executor.Command{Script: "true"})
	wantUnreachable(t, err, sshx.ReasonTimeout)
}
