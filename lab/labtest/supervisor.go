package labtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

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

// LabUp runs `bin/ferry args...`, a lab up, passing signals on to it, and
// says how long it took.
func (s *Supervisor) LabUp(args ...string) error {
	start := time.Now()
	if err := s.Forward(LabCommand(context.Background(), args...)); err != nil {
		return fmt.Errorf("ferry %s: %w", strings.Join(args, " "), err)
	}
	s.Logf("lab up in %s", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// LabDown runs `bin/ferry args...`, a lab down, for at most timeout. It
// runs in a process group of its own, so that a second Ctrl-C does not
// interrupt it half-way.
func LabDown(timeout time.Duration, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	down := LabCommand(ctx, args...)
	down.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := down.Run(); err != nil {
		return fmt.Errorf("ferry %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
