// Package executor defines the one interface between ferry's task engine and
// a target host. SSH, localhost and test implementations live in sibling
// packages; the engine and modules only ever see this interface.
package executor

import (
	"context"
	"errors"
	"io"
	"io/fs"
)

// Executor runs commands and moves files on one target host.
// Implementations must be safe for concurrent use by multiple goroutines:
// one connection serves every step of a run.
type Executor interface {
	// Run executes cmd.Script with /bin/sh on the target and waits for it.
	// A non-zero exit status is reported in Result.ExitCode, not as an error;
	// the error is reserved for transport failures (connection lost, timeout).
	Run(ctx context.Context, cmd Command) (Result, error)
	// Stat returns the state of a path in one round trip, including the
	// sha256 of regular files, so that a no-op check costs one exchange.
	Stat(ctx context.Context, path string, become bool) (FileInfo, error)
	// ReadFile returns a file's content (used for diffs).
	// A missing file yields an error that matches fs.ErrNotExist.
	ReadFile(ctx context.Context, path string, become bool) ([]byte, error)
	// Upload writes content to path atomically: a temp file in the target's
	// directory, mode and owner set, the optional validation run against the
	// temp file, then a rename. An interrupted upload never leaves a partial
	// target and removes its temp file where the connection still allows.
	Upload(ctx context.Context, path string, content []byte, opts UploadOptions) error
	// Remove deletes a file or an empty directory; a missing path is not an error.
	Remove(ctx context.Context, path string, become bool) error
	// Close ends the connection.
	Close() error
}

// Command is one remote shell command.
type Command struct {
	// Script is run by /bin/sh -c on the target. It must never carry secrets:
	// command lines are visible in the target's process list.
	Script string
	// Stdin is fed to the command; secrets travel here.
	Stdin io.Reader
	// Env is exported to the command through its stdin preamble, never
	// through the command line, so values may be secret.
	Env map[string]string
	// Become runs the command through sudo (a no-op when already root).
	Become bool
	// Direct says the script leaves no process running behind it: one of
	// ferry's own, never a user's. A command of its own session then
	// writes straight to it, without the frame that keeps a forgotten
	// background child from holding the session open (which costs the
	// host four processes).
	Direct bool
}

// Result is what a finished command left behind.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// OK reports whether the command exited 0.
func (r Result) OK() bool { return r.ExitCode == 0 }

// FileInfo describes a remote path as Stat saw it.
type FileInfo struct {
	Exists bool
	IsDir  bool
	IsLink bool
	LinkTo string // target of a symbolic link
	Mode   fs.FileMode
	Owner  string
	Group  string
	// OwnerID and GroupID are the numeric ids, as decimal strings, so that
	// an owner given as a number compares equal to its name.
	OwnerID string
	GroupID string
	Size    int64
	SHA256  string // hex; regular files only
}

// UploadOptions tune Upload.
type UploadOptions struct {
	Mode  fs.FileMode // 0 means 0644
	Owner string      // empty keeps the connecting user's (or root's with Become)
	Group string
	// Validate, when set, is run against the candidate before it replaces
	// the target; "%s" in it is replaced by the candidate's path. A non-zero
	// exit aborts the upload with a *ValidationError and leaves the target.
	Validate string
	// Backup keeps the previous file as PATH.ferry-backup-<unix time>.
	Backup bool
	Become bool
}

// ValidationError is returned by Upload when the validation command rejected
// the candidate. Output is the validator's own message, shown to the user.
type ValidationError struct {
	Command string
	Output  string
}

func (e *ValidationError) Error() string {
	return "validation failed (" + e.Command + "): " + e.Output
}

// ErrUnreachable marks transport failures that make a host unreachable
// (connect refused, timeout, host key or auth refused, connection lost).
var ErrUnreachable = errors.New("host unreachable")
