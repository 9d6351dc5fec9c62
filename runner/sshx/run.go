package sshx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	shellword "github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/runner/executor"
	"golang.org/x/crypto/ssh"
)

// The command line of every Run is a fixed bootstrap that reads the real
// program from stdin: exactly N bytes of preamble (env exports, then the
// script), which the shell evaluates, leaving the rest of stdin to the
// script. Neither the script nor the environment shows in the remote
// process list, and with sudo the password line comes first, read by
// `sudo -S` before the shell starts.
//
// dd reads the preamble in one block (iflag=fullblock: GNU and BusyBox),
// never past it; a dd without that flag falls back to byte by byte.
const bootstrap = `/bin/sh -c 'eval "$(dd bs=%[1]d count=1 iflag=fullblock 2>/dev/null || dd bs=1 count=%[1]d 2>/dev/null)"'`

// sessionFrame runs a session's script (%s, quoted) with its stdout and
// stderr in unlinked private files, copied out once it is over, as the
// persistent shell does (shell.go): a background child of the script must
// not hold the session open until it ends. Where no private file can be
// made (a full disk without /dev/shm), the script runs on the session's
// own streams.
const sessionFrame = `__ferry_s=%s
if __ferry_d=$(umask 077; mktemp -d /dev/shm/.ferry-XXXXXXXXXX 2>/dev/null || mktemp -d 2>/dev/null) &&
  { command exec 3>"$__ferry_d/o" 4<"$__ferry_d/o" 5>"$__ferry_d/e" 6<"$__ferry_d/e"; } 2>/dev/null; then
  rm -rf "$__ferry_d"
  (unset __ferry_d; eval "unset __ferry_s;$__ferry_s") >&3 2>&5 3>&- 4<&- 5>&- 6<&-
  __ferry_c=$?
  exec 3>&- 5>&-
  cat <&4
  cat <&6 >&2
  exit "$__ferry_c"
fi
[ -z "$__ferry_d" ] || rm -rf "$__ferry_d"
unset __ferry_d
eval "unset __ferry_s;$__ferry_s"
`

// sudoKind is how Become works on this connection, found out once.
type sudoKind int

const (
	sudoUnknown  sudoKind = iota
	sudoNone              // logged in as root: Become is a no-op
	sudoNoPasswd          // sudo -n: no password needed (or none to give)
	sudoPassword          // sudo -S: the password is the first stdin line
)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Run executes cmd.Script with /bin/sh on the host. A non-zero exit is in
// Result.ExitCode; errors are transport failures (matching
// executor.ErrUnreachable), bad input, or ctx's error, in which case the
// remote process is sent SIGTERM and its session closed.
//
// A command without stdin goes through the connection's persistent shell
// (shell.go) when it is idle and Become needs no password; any other
// command, or one the shell cannot take, gets a session of its own.
func (c *Client) Run(ctx context.Context, cmd executor.Command) (executor.Result, error) {
	pre, err := preamble(cmd.Env, cmd.Script)
	if err != nil {
		return executor.Result{}, fmt.Errorf("run on %s: %w", c.target.name, err)
	}
	kind := sudoNone
	if cmd.Become {
		if kind, err = c.sudo(ctx); err != nil {
			return executor.Result{}, err
		}
	}
	if cmd.Stdin == nil && kind != sudoPassword {
		res, ok, err := c.runShell(ctx, kind == sudoNoPasswd, pre)
		if ok {
			return res, err
		}
	}
	var stdout, stderr bytes.Buffer
	if !cmd.Direct {
		pre = fmt.Sprintf(sessionFrame, quote(pre))
	}
	code, err := c.exec(ctx, kind, pre, cmd.Stdin, &stdout, &stderr)
	if err != nil {
		return executor.Result{}, err
	}
	return executor.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}, nil
}

// exec runs the program pre in a session of its own, through sudo as kind
// says.
func (c *Client) exec(ctx context.Context, kind sudoKind, pre string, in io.Reader, stdout, stderr io.Writer) (int, error) {
	var password string
	line := fmt.Sprintf(bootstrap, len(pre))
	switch kind {
	case sudoNoPasswd:
		line = "sudo -n -- " + line
	case sudoPassword:
		// -k: ignore cached credentials, so that sudo always reads the
		// password line instead of leaving it for the shell to run.
		line = "sudo -k -S -p '' -- " + line
		password = c.cfg.SudoPassword + "\n"
	}
	var stdin io.Reader = strings.NewReader(password + pre)
	if in != nil {
		stdin = io.MultiReader(stdin, in)
	}
	return c.session(ctx, line, stdin, stdout, stderr)
}

// session runs one command line in a new session and returns its exit code.
func (c *Client) session(ctx context.Context, line string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if err := c.acquire(ctx); err != nil {
		return 0, fmt.Errorf("run on %s: %w", c.target.name, err)
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	sess, err := c.ssh.NewSession()
	if err != nil {
		c.release()
		return 0, c.transport("open session", err)
	}
	sess.Stdout, sess.Stderr = stdout, stderr
	in, err := sess.StdinPipe()
	if err == nil {
		err = sess.Start(line)
	}
	if err != nil {
		sess.Close()
		c.release()
		return 0, c.transport("start command", err)
	}
	// Feed stdin ourselves: a remote command that exits without reading
	// it must not make Wait report a write error. Through a small buffer:
	// io.Copy would take 32 kB for as long as the session lives (the run
	// lock's session lives as long as the run), hiding WriteTo so that a
	// MultiReader does not take its own.
	go func() {
		_, _ = io.CopyBuffer(in, struct{ io.Reader }{stdin}, make([]byte, 4<<10))
		in.Close()
	}()
	waited := make(chan error, 1)
	go func() {
		err := sess.Wait()
		sess.Close()
		c.release()
		waited <- err
	}()
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGTERM)
		sess.Close()
		return 0, fmt.Errorf("run on %s: %w", c.target.name, ctx.Err())
	}
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exitErr):
		return exitErr.ExitStatus(), nil
	default:
		return 0, c.transport("run", err)
	}
}

// preamble renders env exports and the script for the bootstrap to eval.
func preamble(env map[string]string, script string) (string, error) {
	var b strings.Builder
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !envName.MatchString(k) {
			return "", fmt.Errorf("env %q: not a valid variable name", k)
		}
		if strings.ContainsRune(env[k], 0) {
			// The value may be secret: name the variable only.
			return "", fmt.Errorf("env %s: value contains a NUL byte", k)
		}
		b.WriteString("export " + k + "=" + quote(env[k]) + "\n")
	}
	b.WriteString(script)
	return b.String(), nil
}

// quote makes s one literal word for a POSIX shell.
func quote(s string) string { return shellword.Literal(s) }

// sudo finds out once per connection how Become works: nothing to do for
// root; without a configured password, `sudo -n` (fails fast rather than
// hang on a prompt); with one, a probe tells whether sudo will ask for it.
func (c *Client) sudo(ctx context.Context) (sudoKind, error) {
	c.sudoMu.Lock()
	defer c.sudoMu.Unlock()
	if c.sudoKind != sudoUnknown {
		return c.sudoKind, nil
	}
	switch {
	case c.target.user == "root":
		c.sudoKind = sudoNone
	case c.cfg.SudoPassword == "":
		c.sudoKind = sudoNoPasswd
	case strings.ContainsAny(c.cfg.SudoPassword, "\n\r"):
		return 0, fmt.Errorf("become on %s: the sudo password contains a line break", c.target.name)
	default:
		code, err := c.session(ctx, "sudo -k -n true 2>/dev/null", nil, io.Discard, io.Discard)
		if err != nil {
			return 0, err
		}
		c.sudoKind = sudoPassword
		if code == 0 {
			c.sudoKind = sudoNoPasswd
		}
	}
	return c.sudoKind, nil
}

// isRoot reports whether Become needs no sudo on this connection.
func (c *Client) isRoot() bool { return c.target.user == "root" }

// itoa is strconv.Itoa, short for script building.
func itoa(n int) string { return strconv.Itoa(n) }
