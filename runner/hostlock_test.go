package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// TestRunLockLeaseExpires: a holder whose heartbeat stopped (the network
// cut, sshd none the wiser) gives the lock up after the lease, so the next
// run gets it; while the lease runs, the lock is refused naming the holder.
func TestRunLockLeaseExpires(t *testing.T) {
	savedBeat, savedLease := lockHeartbeat, lockLease
	lockHeartbeat, lockLease = time.Hour, 2*time.Second // no heartbeat at all
	t.Cleanup(func() { lockHeartbeat, lockLease = savedBeat, savedLease })

	key := sshtest.NewKey(t)
	srv := sshtest.New(t, sshtest.WithAuthorizedKeys(key.Public))
	cfg := sshx.Config{Host: "h01", Address: srv.Host, Port: srv.Port, User: "root",
		PrivateKeys: []string{key.WriteFile(t, "")}, KnownHostsFile: srv.WriteKnownHosts(t),
		ConnectTimeout: 5 * time.Second, SSHConfigFile: "none"}
	dial := func() *sshx.Client {
		c, err := sshx.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	hr := &hostRun{host: &inventory.Host{Name: "h01"}, stateDir: srv.Dir + "/.ferry"}
	first, second := &Engine{}, &Engine{}
	releaseFirst, err := first.lockHost(context.Background(), dial(), hr)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseFirst()
	if _, err := second.lockHost(context.Background(), dial(), hr); err == nil || !strings.Contains(err.Error(), "locked by") {
		t.Fatalf("while the first run holds the lock: %v", err)
	}
	second.opts.LockTimeout = 20 * time.Second
	start := time.Now()
	release, err := second.lockHost(context.Background(), dial(), hr)
	if err != nil {
		t.Fatalf("after the lease: %v", err)
	}
	release()
	t.Logf("lock taken over after %v", time.Since(start).Round(100*time.Millisecond))
}
