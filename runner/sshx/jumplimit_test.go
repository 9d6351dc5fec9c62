package sshx_test

import (
	"context"
	"testing"

	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// TestManyHostsBehindOneBastion: 40 connections at once through one
// bastion whose sshd drops connections beyond 3 concurrent handshakes
// (OpenSSH's MaxStartups): with the default settings every one of them
// succeeds, because ferry limits new sessions per jump host and retries a
// connection reset during the handshake.
func TestManyHostsBehindOneBastion(t *testing.T) {
	target := newFixture(t)
	bastion := sshtest.New(t, sshtest.WithJumpHost(), sshtest.WithAuthorizedKeys(target.key.Public), sshtest.WithMaxStartups(3))
	cfg := target.config()
	cfg.KnownHostsFile = bastion.WriteKnownHosts(t, target.srv.KnownHostsLine())
	cfg.Jump = []sshx.JumpHost{{Address: bastion.Host, Port: bastion.Port, User: "jump"}}
	const n = 40
	errs := make(chan error, n)
	concurrently(n, func(int) {
		c, err := sshx.Dial(context.Background(), cfg)
		if err != nil {
			errs <- err
			return
		}
		c.Close()
	})
	close(errs)
	failed := 0
	var first error
	for err := range errs {
		if first == nil {
			first = err
		}
		failed++
	}
	if failed > 0 {
		t.Errorf("%d of %d connections through the bastion failed; first: %v (bastion dropped %d)", failed, n, first, bastion.Refused())
	}
}
