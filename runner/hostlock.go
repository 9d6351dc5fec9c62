package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

// A run holds a lock on each host it may change, so that two deploys on the
// same host never interleave (one's edits lost under the other's). The lock
// is flock(1) on STATE_DIR/run.lock, held by a command that lives as long
// as the run: it ends when ferry closes its stdin, when the connection
// drops (ferry killed), or when ferry's heartbeat (a line on its stdin
// every lockHeartbeat) stops for lockLease (the network cut: sshd may not
// notice a dead connection for hours), so a lock is never left behind. The
// holder writes who it is beside the lock, for the message a second run
// shows. Only real runs take the lock (check mode changes nothing), and the
// holder marks the host deployed when it ends (statedir.DeployedFile).

// Exit statuses of the lock command: another run holds the lock; this run
// holds it already (two inventory names for one machine).
const (
	exitLockBusy = 75
	exitLockOurs = 76
)

// lockScript takes the lock in the state folder d, naming the holder in
// hf; $T is this run's token, $H who holds it, $W how many seconds to wait
// (0: not at all).
const lockScript = `d=%s hf=%s
# A new folder is private; an existing one keeps the mode roles gave it.
[ -d "$d" ] || (umask 077 && mkdir -p "$d") || exit 1
command -v flock >/dev/null || { echo "flock(1) not found: install util-linux" >&2; exit 1; }
exec 9>>"$d/run.lock" || exit 1
if ! flock -n 9; then
  # The holder writes its name just after it got the lock.
  i=0; while [ ! -s "$hf" ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done
  read -r h _ 2>/dev/null <"$hf" && [ "$h" = "$T" ] && exit 76
  if [ "$W" -eq 0 ] || ! flock -w "$W" 9; then
    cat "$hf" 2>/dev/null || echo "another run"
    exit 75
  fi
fi
printf '%%s %%s\n' "$T" "$H" > "$hf"
# Hold it while ferry's heartbeats come, each within the lease: with bash,
# whose read has a timeout, a beat costs the host no process; without it,
# timeout(1) and head(1) for each beat (thousands in a long run of many
# hosts).
lease=%d
if command -v bash >/dev/null 2>&1; then
  bash -c 'while IFS= read -r -t "$1" l && [ -n "$l" ]; do :; done' heartbeat "$lease"
else
  while l=$(timeout "$lease" head -n 1) && [ -n "$l" ]; do :; done
fi
rm -f "$hf"
` + statedir.MarkDeployed + `
`

// The holder's heartbeat: ferry sends a line every lockHeartbeat; the
// holder gives the lock up after lockLease without one. Variables for
// tests only.
var (
	lockHeartbeat = 10 * time.Second
	lockLease     = 30 * time.Second
)

// lockPoll is how soon the holder file is first read while the lock is
// taken; the interval doubles up to maxLockPoll while a run waits.
const (
	lockPoll    = 50 * time.Millisecond
	maxLockPoll = time.Second
)

// lockAndGather takes hr's run lock when lock is set, and reads the host's
// facts and state folder through hr.exec. The facts read is the lock's
// first poll, sent while the lock is being taken: its script waits a moment
// for the holder file to name this run (statedir.Where.Run), and the facts
// come after that line, so under the lock. Only when it saw another holder
// does the lock poll on its own, and the facts are read again once it is
// taken. On failure hr is left unlocked.
func (e *Engine) lockAndGather(ctx context.Context, hr *hostRun, lock bool) error {
	// gather reads through hr.exec; run, when set, is the run taking the lock.
	gather := func(ctx context.Context, run string) (err error) {
		w := statedir.Where{Dir: hr.stateDir, Become: hr.host.Conn.Become, Run: run}
		hr.facts, hr.left, err = e.opts.Gather(ctx, hr.exec, w)
		return err
	}
	gathered := false
	if lock {
		confirm := func(ctx context.Context, token string) bool {
			gathered = gather(ctx, token) == nil && hr.left.Holder == token
			return gathered
		}
		// The lock's own exchanges are not a step's round trips: uncounted.
		unlock, err := e.lockHost(ctx, hr.exec.Executor, hr, confirm)
		if err != nil {
			return err
		}
		hr.unlock = unlock
	}
	if gathered {
		return nil
	}
	if err := gather(ctx, ""); err != nil {
		if hr.unlock != nil {
			hr.unlock()
			hr.unlock = nil
		}
		return err
	}
	return nil
}

// lockHost takes hr's run lock through x and returns its release. A host
// held by another run fails with a message naming the holder. confirm,
// when set, is the first poll, made while the lock is being taken: it
// reads the host its own way and reports whether the holder file named
// token. Its ctx is cancelled when the lock's command answers first (the
// host is busy): the read may be waiting for a name that will not come.
func (e *Engine) lockHost(ctx context.Context, x executor.Executor, hr *hostRun, confirm func(ctx context.Context, token string) bool) (release func(), err error) {
	token, err := e.runToken()
	if err != nil {
		return nil, err
	}
	if hr.host.Conn.Become {
		// Become must work before the polls below use it: with a wrong
		// sudo password each of them would be one more failed sudo.
		res, err := x.Run(ctx, executor.Command{Script: "true", Become: true})
		if err != nil {
			return nil, err
		}
		if !res.OK() {
			return nil, fmt.Errorf("become (sudo) failed: %s", strings.TrimSpace(string(res.Stderr)))
		}
	}
	holderFile := statedir.HolderFile(hr.stateDir)
	stdinR, stdinW := io.Pipe()
	wait := int(e.opts.LockTimeout.Round(time.Second) / time.Second)
	if e.opts.LockTimeout > 0 && wait == 0 {
		wait = 1
	}
	cmd := executor.Command{
		Script: fmt.Sprintf(lockScript, shq(hr.stateDir), shq(holderFile), int(lockLease/time.Second)),
		Env:    map[string]string{"T": token, "H": holder(), "W": fmt.Sprint(wait)},
		Stdin:  stdinR,
		Become: hr.host.Conn.Become,
		Direct: true, // flock and the heartbeat's read: nothing outlives it
	}
	type outcome struct {
		res executor.Result
		err error
	}
	ended := make(chan outcome, 1)
	// The holding command outlives ctx's cancellation: the lock must stay
	// held while an interrupted run still cleans up (and records handlers).
	hold := context.WithoutCancel(ctx)
	go func() {
		res, err := x.Run(hold, cmd)
		ended <- outcome{res, err}
	}()
	stop := make(chan struct{})
	every := lockHeartbeat
	go func() {
		beat := time.NewTicker(every)
		defer beat.Stop()
		for {
			select {
			case <-stop:
				return
			case <-beat.C:
				if _, err := stdinW.Write([]byte("beat\n")); err != nil {
					return
				}
			}
		}
	}()
	var once sync.Once
	shutdown := func() {
		once.Do(func() {
			close(stop)
			stdinW.Close()
		})
	}
	release = func() {
		shutdown()
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
		}
	}
	if confirm != nil {
		cctx, cancel := context.WithCancel(ctx)
		confirmed := make(chan bool, 1)
		go func() { confirmed <- confirm(cctx, token) }()
		select {
		case ok := <-confirmed:
			cancel()
			if ok {
				return release, nil
			}
		case o := <-ended:
			// Busy (or failed): the answer is below, now, not once the
			// facts read has waited its second for this run's name.
			cancel()
			<-confirmed
			ended <- o
		}
	}
	interval := lockPoll
	tick := time.NewTimer(interval)
	defer tick.Stop()
	for {
		select {
		case o := <-ended:
			shutdown()
			switch {
			case o.err != nil:
				return nil, fmt.Errorf("run lock: %w", o.err)
			case o.res.ExitCode == exitLockOurs:
				return func() {}, nil
			case o.res.ExitCode == exitLockBusy:
				who := strings.TrimSpace(string(o.res.Stdout))
				if _, rest, ok := strings.Cut(who, " "); ok && strings.HasPrefix(who, "ferry-") {
					who = rest
				}
				msg := "host busy: locked by " + who
				if wait > 0 {
					msg += fmt.Sprintf(" (waited %s)", e.opts.LockTimeout)
				} else {
					msg += " (--lock-timeout waits for it)"
				}
				return nil, errors.New(msg)
			default:
				return nil, fmt.Errorf("run lock in %s: exit %d: %s", hr.stateDir, o.res.ExitCode, strings.TrimSpace(string(o.res.Stderr)))
			}
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		case <-tick.C:
			interval = min(2*interval, maxLockPoll)
			tick.Reset(interval)
		}
		res, err := x.Run(ctx, executor.Command{Script: "cat " + shq(holderFile) + " 2>/dev/null", Become: hr.host.Conn.Become})
		if err == nil && strings.HasPrefix(string(res.Stdout), token+" ") {
			return release, nil
		}
	}
}

// runToken names this run in the holder file, so that a host reached under
// two inventory names is not refused as busy with this very run.
func (e *Engine) runToken() (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.runID == "" {
		tok := make([]byte, 8)
		if _, err := rand.Read(tok); err != nil {
			return "", err
		}
		e.runID = "ferry-" + hex.EncodeToString(tok)
	}
	return e.runID, nil
}

// holder says who runs this deploy: user@host, process id and start time.
func holder() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%s (pid %d, since %s)", name, host, os.Getpid(), time.Now().UTC().Format(time.RFC3339))
}
