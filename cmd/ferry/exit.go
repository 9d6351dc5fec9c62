package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner"
)

// Exit codes are part of ferry's contract with scripts and CI. Every
// command maps its outcome to them here, and nowhere else.
const (
	exitOK          = 0
	exitFailed      = 1 // a task failed
	exitUnreachable = 2 // a host was unreachable
	exitBadInput    = 3 // inventory, role, template or flags rejected before anything ran
	exitDrift       = 4 // --check --detailed-exitcode: changes are pending
	exitPlanStale   = 5 // ferry apply: a host or the inputs no longer match the saved plan
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// badInput wraps an error detected before anything ran.
func badInput(err error) error { return &exitError{code: exitBadInput, err: err} }

// planStale wraps ferry apply's refusal of a plan the hosts or inputs no
// longer match.
func planStale(err error) error { return &exitError{code: exitPlanStale, err: err} }

// exitCode prints err and returns the process's exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "ferry:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "ferry:", err)
	// cobra's own flag and argument errors are bad input too.
	return exitBadInput
}

// outcome is how a run over hosts ended, whichever command ran it.
type outcome struct {
	unreachable, failed int
	interrupted         bool
}

// err is the outcome's exit: an unreachable host wins over a failed task,
// which wins over an interruption.
func (o outcome) err() error {
	switch {
	case o.unreachable > 0:
		return &exitError{code: exitUnreachable}
	case o.failed > 0:
		return &exitError{code: exitFailed}
	case o.interrupted:
		return &exitError{code: exitFailed, err: errors.New("interrupted")}
	}
	return nil
}

// recapExit maps an engine run's recap to its exit. Hosts ferry apply
// refused count as failed in the recap; they are not failed tasks.
func recapExit(r runner.Recap) error {
	return outcome{unreachable: r.Unreachable, failed: r.Failed - r.Refused, interrupted: r.Interrupted}.err()
}

// deployExit is a deploy's exit from its recap (and that of `ferry recap
// merge` from the merged recap): recapExit's, else, when asked
// (--check --detailed-exitcode), 4 for changes pending or unknown.
func deployExit(r runner.Recap, detailedExitcode bool) error {
	if err := recapExit(r); err != nil {
		return err
	}
	if detailedExitcode && (r.Changed > 0 || r.Unknown > 0) {
		return &exitError{code: exitDrift}
	}
	return nil
}

// runError maps the engine's error: input it rejected before touching a
// host is bad input, told without secrets.
func runError(inv *inventory.Inventory, err error) error {
	var bad *runner.BadInputError
	if errors.As(err, &bad) {
		return badInput(fmt.Errorf("nothing was changed: %s", inv.Redact(bad.Error())))
	}
	return err
}
