package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hostread"
)

// quote returns s as one POSIX-shell word (bare when it needs no quotes).
func quote(s string) string { return shell.Quote(s) }

// run executes a command and turns a transport failure into an error naming
// what was being done; a non-zero exit is left to the caller.
func run(ctx context.Context, t *Target, what string, cmd executor.Command) (executor.Result, error) {
	cmd.Become = cmd.Become || t.Become
	res, err := t.Exec.Run(ctx, cmd)
	if err != nil {
		return res, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}

// runOK is run where a non-zero exit is a failure too; the error carries
// the end of stderr, which is where tools say what went wrong.
func runOK(ctx context.Context, t *Target, what string, cmd executor.Command) (executor.Result, error) {
	res, err := run(ctx, t, what, cmd)
	if err != nil {
		return res, err
	}
	if !res.OK() {
		return res, fmt.Errorf("%s: exit %d: %s", what, res.ExitCode, tail(res.Stderr, res.Stdout))
	}
	return res, nil
}

// tail returns the last lines of stderr (or stdout when stderr is empty).
func tail(stderr, stdout []byte) string {
	s := strings.TrimSpace(string(stderr))
	if s == "" {
		s = strings.TrimSpace(string(stdout))
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 15 {
		lines = append([]string{"..."}, lines[len(lines)-15:]...)
	}
	return strings.Join(lines, "\n")
}

// redact replaces every occurrence of the secrets in s. It guards error
// messages built from tool output, which may quote the input they rejected.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "********")
		}
	}
	return s
}

// redactedError is an error with secrets masked out of its message. It
// still unwraps to the error it masks, so that the engine sees the cause
// under the mask: an unreachable host, a cancelled run, or a read the plan
// has yet to fetch in its host's batch (a chain cut here made every MariaDB
// read of a no-op a round trip of its own).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr is err with the secrets masked out of its message.
func redactErr(err error, secrets ...string) error {
	return &redactedError{msg: redact(err.Error(), secrets...), err: err}
}

// sections splits output printed as "@@name" marker lines followed by
// content, so that one script can return several reads at once.
func sections(out string) map[string]string { return hostread.Sections(out) }
