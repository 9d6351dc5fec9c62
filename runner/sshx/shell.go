package sshx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"golang.org/x/crypto/ssh"
)

// A persistent shell serves Runs without a new session each: on a real
// host every session costs an sshd fork, a login shell, /bin/sh and dd
// before the step's own command starts, which dominates a no-op deploy.
//
// The shell is started like any Run (the fixed bootstrap, with `sudo -n`
// for the root shell), and the program it evaluates is shellLoop. Each
// request is a line holding the length of the usual preamble (exports,
// then the script), then the preamble; the loop reads the line with the
// `read` builtin and the preamble in one block with dd (the `read`
// builtin takes a byte per system call on a pipe: a 25 kB batch of reads
// took 25,000), runs it in a background subshell with stdin from
// /dev/null and waits for it.
//
// The script's stdout and stderr are not the session's: they are two files
// in a private directory (0700, in /dev/shm where there is one), unlinked
// as soon as they are opened, so that their content has no name and is
// gone when the request ends. Once the script is over the loop copies them
// to the session, framed: on each stream TOKEN "B\n" before, TOKEN "E"
// after (with the exit status and a newline on stdout). A background child
// the script left behind keeps writing into its request's unlinked files,
// never into the session: it can neither hold the session open nor have
// its output taken as a later request's. The token is random, never on a
// command line, and hidden from the script; a script containing it is sent
// through a fresh session instead.
const shellLoop = `__ferry_t=%s
__ferry_d=$(umask 077; mktemp -d /dev/shm/.ferry-XXXXXXXXXX 2>/dev/null || mktemp -d) || exit 1
trap 'rm -rf "$__ferry_d"' EXIT
# Directories of shells that ended without their trap (killed): empty, and
# unused for an hour (a live shell's directory changes with each request).
# Some shells sweep them, not all (sweepEvery).
[ %d = 0 ] || find /dev/shm -maxdepth 1 -name '.ferry-*' -type d -user "$(id -u)" -empty -mmin +60 -exec rmdir {} + >/dev/null 2>&1 &
trap 'kill -TERM "$__ferry_p" 2>/dev/null; exit 143' TERM
while :; do
  IFS= read -r __ferry_l || exit 0
  __ferry_s=$(dd bs="$__ferry_l" count=1 iflag=fullblock 2>/dev/null || dd bs=1 count="$__ferry_l" 2>/dev/null)
  exec 3>"$__ferry_d/o" 4<"$__ferry_d/o" 5>"$__ferry_d/e" 6<"$__ferry_d/e"
  rm -f "$__ferry_d/o" "$__ferry_d/e"
  printf '%%sB\n' "$__ferry_t"
  printf '%%sB\n' "$__ferry_t" >&2
  (unset __ferry_t __ferry_l __ferry_p __ferry_d __ferry_c; eval "unset __ferry_s;$__ferry_s") </dev/null >&3 2>&5 3>&- 4<&- 5>&- 6<&- &
  __ferry_p=$!
  wait "$__ferry_p"
  __ferry_c=$?
  exec 3>&- 5>&-
  { [ -s /dev/fd/4 ] || [ ! -e /dev/fd/4 ]; } && cat <&4
  printf '%%sE%%d\n' "$__ferry_t" "$__ferry_c"
  { [ -s /dev/fd/6 ] || [ ! -e /dev/fd/6 ]; } && cat <&6 >&2
  printf '%%sE\n' "$__ferry_t" >&2
  exec 4<&- 6<&-
done
`

// sweepEvery is how many shells, on average, start for one that sweeps
// the folders killed shells left: they are empty and rare, and a sweep
// costs every host two processes (id, find) on every run. A variable for
// tests.
var sweepEvery = 16

// sweeps draws whether a shell sweeps (1) or not (0).
func sweeps() int {
	if mathrand.IntN(sweepEvery) == 0 {
		return 1
	}
	return 0
}

// maxShellRequest bounds what goes through the shell: the loop holds a
// request in a shell variable.
const maxShellRequest = 4 << 20

// errShellBroken marks a shell that stopped before the script started, so
// the request may safely go through a fresh session instead.
var errShellBroken = errors.New("persistent shell broken")

// shell is one long-lived remote /bin/sh on the connection. It serves one
// request at a time; mu is held for the request.
type shell struct {
	mu     sync.Mutex
	sess   *ssh.Session
	stdin  io.Writer
	stdout stream
	stderr stream
	token  string
	start  []byte        // the loop program, sent with the first request
	served int           // requests completed
	ended  chan struct{} // closed when the session is over

	deadMu sync.Mutex
	dead   bool
}

// alive reports whether the shell may take another request.
func (sh *shell) alive() bool {
	sh.deadMu.Lock()
	defer sh.deadMu.Unlock()
	return !sh.dead
}

// kill ends the shell: SIGTERM (which the loop passes on to the running
// script), then the session is closed. It is asynchronous because closing
// may block on a connection that stopped answering.
func (sh *shell) kill() {
	sh.deadMu.Lock()
	sh.dead = true
	sh.deadMu.Unlock()
	go func() {
		_ = sh.sess.Signal(ssh.SIGTERM)
		sh.sess.Close()
	}()
}

// shellIndex is the slot of the login user's shell and of the root shell.
func shellIndex(root bool) int {
	if root {
		return 1
	}
	return 0
}

// claimShell returns a shell locked for one request, starting one if
// needed, or nil if the request should take a fresh session: the shell is
// busy or being started (parallel steps never queue behind a slow
// command), the connection has no free session slot, or this kind of
// shell does not work on this host.
func (c *Client) claimShell(root bool) *shell {
	select {
	case <-c.done:
		return nil
	default:
	}
	if !c.shellMu.TryLock() {
		return nil
	}
	defer c.shellMu.Unlock()
	i := shellIndex(root)
	if c.shellOff[i].Load() {
		return nil
	}
	if sh := c.shells[i]; sh != nil && sh.alive() {
		if sh.mu.TryLock() {
			return sh
		}
		return nil
	}
	c.shells[i] = nil
	// A shell holds a session slot for its whole life; never wait for one.
	select {
	case c.sem <- struct{}{}:
	default:
		return nil
	}
	sh, err := c.startShell(root)
	if err != nil {
		c.release()
		return nil // the fresh session reports the failure, if it persists
	}
	c.shells[i] = sh
	sh.mu.Lock()
	return sh
}

// startShell opens the shell's session; its session slot is taken, and is
// given back when the session ends.
func (c *Client) startShell(root bool) (*shell, error) {
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	sess, err := c.ssh.NewSession()
	if err != nil {
		return nil, err
	}
	sh := &shell{sess: sess, token: "__ferry_" + hex.EncodeToString(tok), ended: make(chan struct{})}
	sh.start = []byte(fmt.Sprintf(shellLoop, sh.token, sweeps()))
	in, err1 := sess.StdinPipe()
	out, err2 := sess.StdoutPipe()
	errOut, err3 := sess.StderrPipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		sess.Close()
		return nil, err
	}
	sh.stdin, sh.stdout.r, sh.stderr.r = in, out, errOut
	line := fmt.Sprintf(bootstrap, len(sh.start))
	if root {
		line = "sudo -n -- " + line
	}
	if err := sess.Start(line); err != nil {
		sess.Close()
		return nil, err
	}
	go func() {
		_ = sess.Wait()
		sess.Close()
		sh.deadMu.Lock()
		sh.dead = true
		sh.deadMu.Unlock()
		c.release()
		close(sh.ended)
	}()
	return sh, nil
}

// runShell runs pre through a persistent shell. ok is false when the
// request must go through a fresh session instead (not eligible, shell
// busy, or the shell broke before the script started).
func (c *Client) runShell(ctx context.Context, root bool, pre string) (res executor.Result, ok bool, err error) {
	if c.cfg.NoPersistentShell || len(pre) > maxShellRequest || strings.ContainsRune(pre, 0) || ctx.Err() != nil {
		return res, false, nil
	}
	sh := c.claimShell(root)
	if sh == nil {
		return res, false, nil
	}
	defer sh.mu.Unlock()
	if strings.Contains(pre, sh.token) {
		return res, false, nil
	}
	res, err = sh.run(ctx, pre)
	switch {
	case err == nil:
		sh.served++
		return res, true, nil
	case errors.Is(err, errShellBroken):
		sh.kill()
		if sh.served == 0 {
			// It never worked here (sudo -n refused, say): stop trying.
			c.shellOff[shellIndex(root)].Store(true)
		}
		return res, false, nil
	case ctx.Err() != nil:
		sh.kill()
		return res, true, fmt.Errorf("run on %s: %w", c.target.name, ctx.Err())
	default:
		sh.kill()
		if c.connGone(ctx) {
			return res, true, c.transport("run", err)
		}
		return res, true, fmt.Errorf("run on %s: %w", c.target.name, err)
	}
}

// connGone tells, after a shell broke mid-command, whether the connection
// itself is gone: the shell's streams may report the end before the
// client notices, so ask the server. No answer within the connect timeout
// counts as gone.
func (c *Client) connGone(ctx context.Context) bool {
	reply := make(chan error, 1)
	go func() {
		_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
		reply <- err
	}()
	timeout := c.cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-reply:
		return err != nil
	case <-c.done:
		return true
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// run sends one request and reads its response. Failures before the
// script can have started wrap errShellBroken.
func (sh *shell) run(ctx context.Context, pre string) (executor.Result, error) {
	// Command substitution in the loop drops trailing newlines: the
	// length counts what arrives.
	pre = strings.TrimRight(pre, "\n")
	if pre == "" {
		pre = ":"
	}
	req := append(sh.start, strconv.Itoa(len(pre))+"\n"+pre...)
	sh.start = nil
	type result struct {
		b    []byte
		code int
		err  error
	}
	outc, errc := make(chan result, 1), make(chan result, 1)
	go func() {
		if _, err := sh.stdin.Write(req); err != nil {
			// The loop runs nothing before it has the whole request.
			outc <- result{err: fmt.Errorf("%w: send: %v", errShellBroken, err)}
			return
		}
		b, code, err := sh.stdout.response(sh.token, true)
		outc <- result{b, code, err}
	}()
	go func() {
		b, _, err := sh.stderr.response(sh.token, false)
		errc <- result{b: b, err: err}
	}()
	var out, errOut result
	select {
	case out = <-outc:
	case <-ctx.Done():
		return executor.Result{}, ctx.Err()
	}
	if out.err != nil {
		return executor.Result{}, out.err
	}
	// The script is over; stderr's end marker follows at once.
	select {
	case errOut = <-errc:
	case <-ctx.Done():
		return executor.Result{}, ctx.Err()
	}
	if errOut.err != nil {
		return executor.Result{}, errOut.err
	}
	return executor.Result{Stdout: out.b, Stderr: errOut.b, ExitCode: out.code}, nil
}

// stream is one of the shell's output streams.
type stream struct {
	r   io.Reader
	buf []byte // read but not yet consumed
}

// streamBufs holds the streams' read buffers between requests. A stream
// takes one while it reads a response and gives it back once nothing is
// left unconsumed: a buffer kept per stream (four a host) was 40% of
// ferry's live memory at 300 hosts, and a fresh one per read most of a
// run's garbage.
var streamBufs = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// release drops the stream's buffer when it holds nothing unconsumed
// (output that came after the end marker stays), back to streamBufs unless
// a large response grew it past 1 MiB.
func (s *stream) release() {
	if len(s.buf) > 0 {
		return
	}
	b := s.buf[:0]
	s.buf = nil
	if cap(b) > 0 && cap(b) <= 1<<20 {
		streamBufs.Put(&b)
	}
}

// response reads one request's output: anything before the begin marker
// (output of a background job of an earlier script) is dropped. An end of
// stream before the begin marker means the script never started. With
// status, the end marker carries the exit code.
func (s *stream) response(token string, status bool) ([]byte, int, error) {
	defer s.release()
	if _, err := s.until(token + "B\n"); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errShellBroken, err)
	}
	out, err := s.until(token + "E")
	if err != nil {
		return nil, 0, fmt.Errorf("persistent shell ended during the command: %w", err)
	}
	if !status {
		if _, err := s.until("\n"); err != nil {
			return nil, 0, fmt.Errorf("persistent shell ended during the command: %w", err)
		}
		return out, 0, nil
	}
	line, err := s.until("\n")
	if err != nil {
		return nil, 0, fmt.Errorf("persistent shell ended during the command: %w", err)
	}
	code, err := strconv.Atoi(string(line))
	if err != nil || code < 0 {
		return nil, 0, fmt.Errorf("persistent shell: bad exit status %q", line)
	}
	return out, code, nil
}

// until reads up to the first occurrence of marker and returns what came
// before it; the marker is consumed. The returned slice is the caller's.
func (s *stream) until(marker string) ([]byte, error) {
	m := []byte(marker)
	from := 0
	for {
		if i := bytes.Index(s.buf[from:], m); i >= 0 {
			i += from
			// The buffer is kept for the next read (a fresh one for each
			// marker made most of a run's garbage); out is a copy.
			out := bytes.Clone(s.buf[:i])
			s.buf = s.buf[:copy(s.buf, s.buf[i+len(m):])]
			return out, nil
		}
		from = max(0, len(s.buf)-len(m)+1)
		if s.buf == nil {
			s.buf = *streamBufs.Get().(*[]byte)
		}
		if cap(s.buf)-len(s.buf) < 16<<10 {
			s.buf = append(s.buf, make([]byte, 32<<10)...)[:len(s.buf)]
		}
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil && n == 0 {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}
