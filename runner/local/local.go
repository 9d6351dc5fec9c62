// Package local implements executor.Executor for the controller itself, so
// that "localhost" in an inventory needs no SSH server, and so that modules
// can be tested against real files in a temporary directory.
package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// Options tune the local executor.
type Options struct {
	// SudoPassword is fed to "sudo -S" when a command needs become and the
	// controller is not running as root. Empty means sudo must not ask
	// (NOPASSWD), so it is run with -n and fails rather than hanging.
	SudoPassword string
}

// Executor runs commands on the controller. It holds no per-call state and
// is safe for concurrent use.
type Executor struct {
	opts Options
	root bool
	// shellOps makes file operations with become use the shell fallback
	// even as root, so tests can exercise those scripts without sudo.
	shellOps bool
}

var _ executor.Executor = (*Executor)(nil)

// New returns a local executor.
func New(opts Options) *Executor {
	return &Executor{opts: opts, root: os.Geteuid() == 0}
}

// sudo reports whether an operation must go through sudo: only when asked to
// become and not already root.
func (e *Executor) sudo(become bool) bool { return become && (!e.root || e.shellOps) }

// Run executes cmd.Script with /bin/sh -c.
func (e *Executor) Run(ctx context.Context, cmd executor.Command) (executor.Result, error) {
	var c *exec.Cmd
	if cmd.Become && !e.root {
		argv, stdin, err := sudoCommand(cmd, e.opts.SudoPassword)
		if err != nil {
			return executor.Result{}, err
		}
		c = exec.CommandContext(ctx, argv[0], argv[1:]...)
		c.Stdin = stdin
	} else {
		c = exec.CommandContext(ctx, "/bin/sh", "-c", cmd.Script)
		c.Env = mergeEnv(os.Environ(), cmd.Env)
		c.Stdin = cmd.Stdin
	}
	// The output goes to unlinked files, not pipes: a background child the
	// script leaves would hold a pipe open, and Run with it (sshx does the
	// same on the target).
	stdout, err := unlinkedFile()
	if err != nil {
		return executor.Result{}, err
	}
	defer stdout.Close()
	stderr, err := unlinkedFile()
	if err != nil {
		return executor.Result{}, err
	}
	defer stderr.Close()
	c.Stdout, c.Stderr = stdout, stderr
	err = c.Run()
	res := executor.Result{Stdout: readBack(stdout), Stderr: readBack(stderr)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		res.ExitCode = exitErr.ExitCode()
		if res.ExitCode < 0 { // killed by a signal
			res.ExitCode = 128
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				res.ExitCode += int(ws.Signal())
			}
		}
	case ctx.Err() != nil:
		return res, fmt.Errorf("run local command: %w", ctx.Err())
	default:
		return res, fmt.Errorf("run local command: %w", err)
	}
	return res, nil
}

// unlinkedFile is a private temp file that has no name any more.
func unlinkedFile() (*os.File, error) {
	f, err := os.CreateTemp("", "ferry-out-")
	if err != nil {
		return nil, fmt.Errorf("run local command: output file: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

// readBack reads what was written to f so far.
func readBack(f *os.File) []byte {
	n, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	b := make([]byte, n)
	m, _ := f.ReadAt(b, 0)
	return b[:m]
}

// sudoEnvBegin and sudoEnvEnd frame the environment block on stdin. The
// begin marker lets the wrapper skip the password line when sudo did not
// read it (NOPASSWD), so that it never becomes part of the environment.
const (
	sudoEnvBegin = "__ferry_env_begin__"
	sudoEnvEnd   = "__ferry_env_end__"
)

// sudoWrapper reads the environment block from stdin (sh's read takes one
// byte at a time from a pipe, so the command's own stdin stays intact),
// exports it, and runs the script given as $1.
const sudoWrapper = `while IFS= read -r l; do [ "$l" = ` + sudoEnvBegin + ` ] && break; done
while IFS= read -r l; do [ "$l" = ` + sudoEnvEnd + ` ] && break; export "$l"; done
exec /bin/sh -c "$1"`

// sudoCommand builds the argv and stdin for running cmd through sudo. Env
// rides on stdin because sudo scrubs the environment and the command line is
// public.
func sudoCommand(cmd executor.Command, password string) ([]string, io.Reader, error) {
	var pre strings.Builder
	argv := []string{"sudo", "-n"}
	if password != "" {
		argv = []string{"sudo", "-S", "-k", "-p", ""}
		pre.WriteString(password + "\n")
	}
	argv = append(argv, "--", "/bin/sh", "-c", sudoWrapper, "ferry-sudo", cmd.Script)
	pre.WriteString(sudoEnvBegin + "\n")
	for _, k := range slices.Sorted(maps.Keys(cmd.Env)) {
		v := cmd.Env[k]
		if strings.ContainsAny(k, "=\n") || strings.Contains(v, "\n") {
			return nil, nil, fmt.Errorf("env %s: names must not contain '=' and values must be one line under sudo", k)
		}
		pre.WriteString(k + "=" + v + "\n")
	}
	pre.WriteString(sudoEnvEnd + "\n")
	in := io.Reader(strings.NewReader(pre.String()))
	if cmd.Stdin != nil {
		in = io.MultiReader(in, cmd.Stdin)
	}
	return argv, in, nil
}

func mergeEnv(base []string, extra map[string]string) []string {
	out := append([]string(nil), base...)
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		out = append(out, k+"="+extra[k])
	}
	return out
}

// Stat describes path without following a final symbolic link.
func (e *Executor) Stat(ctx context.Context, path string, become bool) (executor.FileInfo, error) {
	if e.sudo(become) {
		return e.sudoStat(ctx, path)
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return executor.FileInfo{}, nil
	}
	if err != nil {
		return executor.FileInfo{}, fmt.Errorf("stat %s: %w", path, err)
	}
	info := executor.FileInfo{
		Exists: true,
		IsDir:  fi.IsDir(),
		IsLink: fi.Mode()&fs.ModeSymlink != 0,
		Mode:   fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky),
		Size:   fi.Size(),
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		info.Owner = userName(st.Uid)
		info.Group = groupName(st.Gid)
		info.OwnerID = strconv.FormatUint(uint64(st.Uid), 10)
		info.GroupID = strconv.FormatUint(uint64(st.Gid), 10)
	}
	if info.IsLink {
		if info.LinkTo, err = os.Readlink(path); err != nil {
			return executor.FileInfo{}, fmt.Errorf("readlink %s: %w", path, err)
		}
	}
	if fi.Mode().IsRegular() {
		if info.SHA256, err = fileSHA256(path); err != nil {
			return executor.FileInfo{}, err
		}
	}
	return info, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// userName and groupName fall back to the number, which is what ls shows
// for ids without a name.
func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}

// ReadFile returns the content of path.
func (e *Executor) ReadFile(ctx context.Context, path string, become bool) ([]byte, error) {
	if e.sudo(become) {
		return e.sudoReadFile(ctx, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// Remove deletes a file or an empty directory.
func (e *Executor) Remove(ctx context.Context, path string, become bool) error {
	if e.sudo(become) {
		return e.sudoRemove(ctx, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// Close is a no-op: there is no connection.
func (e *Executor) Close() error { return nil }
