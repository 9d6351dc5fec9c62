// Package labtest holds what the end-to-end suites (lab/e2e for the nspawn
// lab, lab/e2e/vagrant for VMs) share: finding the repository and its
// bin/ferry, running commands, and supervising the tests. Each suite's
// TestMain is a supervisor: it brings its lab up, runs the tests in a child
// process, and always takes the lab down again, so that a panic or a
// -timeout in a test, which end the process at once, still leave the
// parent to clean up.
package labtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RepoRoot is the repository's absolute path (the folder of go.mod); go
// test runs a package's tests in the package's folder.
var RepoRoot = func() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			panic("labtest: no go.mod above " + dir)
		}
	}
}()

// FerryBin is the ferry binary `make build` writes.
func FerryBin() string { return filepath.Join(RepoRoot, "bin", "ferry") }

// Result is what a command printed and how it exited.
type Result struct {
	Stdout, Stderr string
	// Code is the exit code; -1 if the command could not run or was killed.
	Code int
}

// CommandTimeout bounds any single command of a test.
const CommandTimeout = 10 * time.Minute

// Run runs name with args in dir, stdin on its standard input.
func Run(t testing.TB, dir, stdin, name string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String(), Code: cmd.ProcessState.ExitCode()}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Logf("%s %s: %v", name, strings.Join(args, " "), err)
		r.Code = -1
	}
	return r
}

// Supervisor runs a suite's lab commands and its tests as children,
// passing SIGINT and SIGTERM on to them.
type Supervisor struct {
	// Prefix starts every line it prints ("e2e", "e2e vagrant").
	Prefix string
	sigs   chan os.Signal
}

// NewSupervisor starts catching SIGINT and SIGTERM; call Stop when done.
func NewSupervisor(prefix string) *Supervisor {
	s := &Supervisor{Prefix: prefix, sigs: make(chan os.Signal, 4)}
	signal.Notify(s.sigs, syscall.SIGINT, syscall.SIGTERM)
	return s
}

// Stop stops catching signals.
func (s *Supervisor) Stop() { signal.Stop(s.sigs) }

// Logf prints a line with the supervisor's prefix on stderr.
func (s *Supervisor) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, s.Prefix+": "+format+"\n", args...)
}

// Forward runs cmd and passes SIGINT/SIGTERM on to it, so that the child
// ends first and this process still gets to take the lab down.
func (s *Supervisor) Forward(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			return err
		case sig := <-s.sigs:
			s.Logf("%s: stopping, then taking the lab down", sig)
			_ = cmd.Process.Signal(sig)
		}
	}
}

// RunTests runs this test binary again as the child that runs the tests,
// with env added to its environment, and returns its exit code (1 when it
// could not run).
func (s *Supervisor) RunTests(env ...string) int {
	child := exec.Command(os.Args[0], os.Args[1:]...)
	child.Env = append(os.Environ(), env...)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := s.Forward(child); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			return exit.ExitCode()
		}
		s.Logf("tests: %v", err)
		return 1
	}
	return 0
}

// LabCommand is `bin/ferry args...` run from the repository root with its
// output on this process's stderr.
func LabCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, FerryBin(), args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = RepoRoot, os.Stderr, os.Stderr
	return cmd
}

// JSONLines decodes ferry's NDJSON output (--output json): each non-empty
// line into a T. A line that is not JSON fails the test.
func JSONLines[T any](t testing.TB, out string) []T {
	t.Helper()
	var list []T
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("output line is not JSON: %q: %v", line, err)
		}
		list = append(list, v)
	}
	return list
}
