package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/facts"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

// lockServer is an in-process SSH host for the lock's tests (opts added to
// its own), with the config that reaches it as root.
func lockServer(t *testing.T, opts ...sshtest.Option) (*sshtest.Server, sshx.Config) {
	t.Helper()
	key := sshtest.NewKey(t)
	srv := sshtest.New(t, append([]sshtest.Option{sshtest.WithAuthorizedKeys(key.Public)}, opts...)...)
	return srv, sshx.Config{Host: "h01", Address: srv.Host, Port: srv.Port, User: "root",
		PrivateKeys: []string{key.WriteFile(t, "")}, KnownHostsFile: srv.WriteKnownHosts(t),
		ConnectTimeout: 5 * time.Second, SSHConfigFile: "none"}
}

// dialLock connects with cfg; the connection is closed when the test ends.
func dialLock(t *testing.T, cfg sshx.Config) *sshx.Client {
	t.Helper()
	c, err := sshx.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRunLockLeaseExpires: a holder whose heartbeat stopped (the network
// cut, sshd none the wiser) gives the lock up after the lease, so the next
// run gets it; while the lease runs, the lock is refused naming the holder.
func TestRunLockLeaseExpires(t *testing.T) {
	savedBeat, savedLease := lockHeartbeat, lockLease
	lockHeartbeat, lockLease = time.Hour, 4*time.Second // no heartbeat at all
	t.Cleanup(func() { lockHeartbeat, lockLease = savedBeat, savedLease })

	srv, cfg := lockServer(t)
	dial := func() *sshx.Client { return dialLock(t, cfg) }
	hr := &hostRun{host: &inventory.Host{Name: "h01"}, stateDir: srv.Dir + "/.ferry"}
	first, second := &Engine{}, &Engine{}
	// Both connections are open before the lease starts, so that a slow
	// handshake on a loaded machine cannot outlast it.
	firstConn, secondConn := dial(), dial()
	releaseFirst, err := first.lockHost(context.Background(), firstConn, hr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseFirst()
	if _, err := second.lockHost(context.Background(), secondConn, hr, nil); err == nil || !strings.Contains(err.Error(), "locked by") {
		t.Fatalf("while the first run holds the lock: %v", err)
	}
	second.opts.LockTimeout = 20 * time.Second
	start := time.Now()
	release, err := second.lockHost(context.Background(), dial(), hr, nil)
	if err != nil {
		t.Fatalf("after the lease: %v", err)
	}
	release()
	t.Logf("lock taken over after %v", time.Since(start).Round(100*time.Millisecond))
}

// wrongSudo stands in for sudo: it reads a password line and always
// refuses it, slowly, logging each attempt.
const wrongSudo = `#!/bin/sh
for a; do [ "$a" = -n ] && { echo "sudo: a password is required" >&2; exit 1; }; done
IFS= read -r pw
echo attempt >>"$SUDO_LOG"
sleep 0.5 # as pam_faildelay makes a real sudo wait
echo "sudo: incorrect password" >&2
exit 1
`

// TestRunLockWrongSudoPasswordTriesOnce: with a wrong sudo password, taking
// the lock makes one sudo attempt, not one per poll (each would be a failed
// authentication in the host's log).
func TestRunLockWrongSudoPasswordTriesOnce(t *testing.T) {
	bin, logDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(wrongSudo), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(logDir, "log")
	srv, cfg := lockServer(t, sshtest.WithPath(bin), sshtest.WithEnv("SUDO_LOG="+log))
	cfg.User, cfg.SudoPassword = "deploy", "wrong"
	c := dialLock(t, cfg)
	hr := &hostRun{host: &inventory.Host{Name: "h01", Conn: inventory.Connection{Become: true}}, stateDir: srv.Dir + "/.ferry"}
	if _, err := (&Engine{}).lockHost(context.Background(), c, hr, nil); err == nil || !strings.Contains(err.Error(), "sudo") {
		t.Errorf("lock with a wrong sudo password: %v", err)
	}
	b, _ := os.ReadFile(log)
	if n := strings.Count(string(b), "attempt"); n != 1 {
		t.Errorf("%d sudo attempts, want 1", n)
	}
}

// TestRunLockKeepsStateFolderMode: the lock makes a missing state folder
// private but leaves the mode of an existing one alone; a role that sets it
// (the built-in roles give it 0755) would otherwise change on every run.
func TestRunLockKeepsStateFolderMode(t *testing.T) {
	srv, cfg := lockServer(t)
	c := dialLock(t, cfg)
	for _, tc := range []struct {
		name     string
		existing os.FileMode // 0: the folder does not exist
		want     os.FileMode
	}{{"new", 0, 0o700}, {"existing", 0o755, 0o755}} {
		dir := filepath.Join(srv.Dir, "state-"+tc.name)
		if tc.existing != 0 {
			if err := os.Mkdir(dir, tc.existing); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.existing); err != nil {
				t.Fatal(err)
			}
		}
		release, err := (&Engine{}).lockHost(context.Background(), c, &hostRun{host: &inventory.Host{Name: "h01"}, stateDir: dir}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		release()
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("%s folder: mode %o after the lock, want %o", tc.name, got, tc.want)
		}
	}
}

// holderReads counts the separate reads of the holder file (the lock's
// polls other than the facts read).
type holderReads struct {
	executor.Executor
	n *atomic.Int32
}

func (h holderReads) Run(ctx context.Context, c executor.Command) (executor.Result, error) {
	if strings.HasPrefix(c.Script, "cat ") && strings.Contains(c.Script, "run.holder") {
		h.n.Add(1)
	}
	return h.Executor.Run(ctx, c)
}

// TestRunLockConfirmedByTheFactsRead: the facts read is the lock's first
// poll; when it finds this run's name in the holder file, the lock needs no
// read of its own and the facts are not read again. Whichever way the lock
// was confirmed, the facts kept are read under it.
func TestRunLockConfirmedByTheFactsRead(t *testing.T) {
	srv, cfg := lockServer(t)
	c := dialLock(t, cfg)
	var gathers, polls atomic.Int32
	e := &Engine{opts: Options{Gather: func(ctx context.Context, x executor.Executor, w statedir.Where) (map[string]any, statedir.Left, error) {
		gathers.Add(1)
		return facts.GatherIn(ctx, x, w)
	}}}
	confirmedByFacts := 0
	for range 5 {
		gathers.Store(0)
		polls.Store(0)
		hr := &hostRun{host: &inventory.Host{Name: "h01"}, stateDir: srv.Dir + "/.ferry"}
		hr.exec = &countingExecutor{Executor: holderReads{c, &polls}}
		if err := e.lockAndGather(context.Background(), hr, true); err != nil {
			t.Fatal(err)
		}
		hr.unlock()
		if hr.left.Holder != e.runID || hr.facts["hostname"] == "" {
			t.Errorf("facts read outside the lock: holder %q (this run %q), facts %v", hr.left.Holder, e.runID, hr.facts)
		}
		switch g, p := gathers.Load(), polls.Load(); {
		case g == 1 && p == 0:
			confirmedByFacts++
		case g == 1:
			t.Errorf("the lock read the holder %d times after the facts read confirmed it", p)
		case g > 2:
			t.Errorf("facts read %d times", g)
		}
	}
	if confirmedByFacts == 0 {
		t.Errorf("the facts read never confirmed the lock in 5 runs")
	}
}

// TestRunLockBusyCutsTheFactsRead: when another run holds the host, the
// lock's own answer says so, and the facts read sent alongside (which
// waits for this run's name in the holder file, a name that will not come)
// is cut short rather than awaited.
func TestRunLockBusyCutsTheFactsRead(t *testing.T) {
	srv, cfg := lockServer(t)
	hr := &hostRun{host: &inventory.Host{Name: "h01"}, stateDir: srv.Dir + "/.ferry"}
	release, err := (&Engine{}).lockHost(context.Background(), dialLock(t, cfg), hr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var cut atomic.Bool
	e := &Engine{opts: Options{Gather: func(ctx context.Context, x executor.Executor, w statedir.Where) (map[string]any, statedir.Left, error) {
		f, left, err := facts.GatherIn(ctx, x, w)
		cut.Store(ctx.Err() != nil)
		return f, left, err
	}}}
	second := &hostRun{host: hr.host, stateDir: hr.stateDir}
	second.exec = &countingExecutor{Executor: dialLock(t, cfg)}
	if err := e.lockAndGather(context.Background(), second, true); err == nil || !strings.Contains(err.Error(), "locked by") {
		t.Fatalf("while another run holds the lock: %v", err)
	}
	if !cut.Load() {
		t.Errorf("the facts read ran its course after the lock said the host is busy")
	}
}

// TestRunLockOneMachineTwoNames: a machine the inventory names twice is
// locked once by the run; the second name is not refused as busy, and its
// facts are read (again, when its first read was cut short).
func TestRunLockOneMachineTwoNames(t *testing.T) {
	srv, cfg := lockServer(t)
	e := &Engine{opts: Options{Gather: facts.GatherIn}}
	var runs []*hostRun
	for _, name := range []string{"web", "web-again"} {
		hr := &hostRun{host: &inventory.Host{Name: name}, stateDir: srv.Dir + "/.ferry"}
		hr.exec = &countingExecutor{Executor: dialLock(t, cfg)}
		if err := e.lockAndGather(context.Background(), hr, true); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if hr.facts["hostname"] == "" {
			t.Errorf("%s: no facts: %v", name, hr.facts)
		}
		runs = append(runs, hr)
	}
	for _, hr := range runs {
		hr.unlock()
	}
}

// noBashPath is a folder of the tools the lock and the transport use on a
// host, without bash, to stand for a host that has none.
func noBashPath(t *testing.T) string {
	dir := t.TempDir()
	for _, tool := range []string{"sh", "dd", "mkdir", "flock", "timeout", "head", "rm", "cat", "sleep", "mktemp", "find", "id", "chmod"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRunLockHeartbeatKeepsIt: ferry's heartbeat keeps a run's lock past
// the lease, on a host with bash (whose read times out, no process a beat)
// and on one without (timeout and head for each beat); released, the lock
// is free at once.
func TestRunLockHeartbeatKeepsIt(t *testing.T) {
	savedBeat, savedLease := lockHeartbeat, lockLease
	lockHeartbeat, lockLease = 300*time.Millisecond, 2*time.Second
	t.Cleanup(func() { lockHeartbeat, lockLease = savedBeat, savedLease })
	for name, env := range map[string][]string{"bash": nil, "no bash": {"PATH=" + noBashPath(t)}} {
		srv, cfg := lockServer(t, sshtest.WithEnv(env...))
		conns := [2]*sshx.Client{dialLock(t, cfg), dialLock(t, cfg)}
		res, err := conns[0].Run(context.Background(), executor.Command{Script: "command -v bash"})
		if err != nil || res.OK() != (name == "bash") {
			t.Fatalf("%s: command -v bash: %+v %v", name, res, err)
		}
		hr := &hostRun{host: &inventory.Host{Name: "h01"}, stateDir: srv.Dir + "/.ferry"}
		release, err := (&Engine{}).lockHost(context.Background(), conns[0], hr, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		time.Sleep(lockLease + lockLease/2)
		if _, err := (&Engine{}).lockHost(context.Background(), conns[1], hr, nil); err == nil || !strings.Contains(err.Error(), "locked by") {
			t.Errorf("%s: past the lease with heartbeats, a second run got: %v", name, err)
		}
		release()
		again, err := (&Engine{}).lockHost(context.Background(), conns[1], hr, nil)
		if err != nil {
			t.Fatalf("%s: after the release: %v", name, err)
		}
		again()
	}
}
