package labtest

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// Suite is one end-to-end suite, as its supervisor runs it.
type Suite struct {
	// Name starts every line the supervisor prints ("e2e", "e2e vagrant").
	Name string
	// ChildEnv is set to 1 in the child process that runs the tests.
	ChildEnv string
	// CannotRun says why this machine cannot run the lab at all, "" when
	// it can; the suite is then skipped, and passes.
	CannotRun func() string
	// Prepare, when set, runs before the lab is touched: it checks what
	// the lab needs and records what the leak check compares with. An
	// error fails the run.
	Prepare func() error
	// Up brings the lab up and returns what the tests' child needs in its
	// environment.
	Up func(*Supervisor) ([]string, error)
	// Down takes the lab down and reports whatever of it is left.
	Down func() error
}

// Main is a suite's TestMain. In the child it runs the tests; in the
// parent it brings the lab up, runs the tests in the child, and always
// takes the lab down again.
func Main(m *testing.M, s Suite) {
	if os.Getenv(s.ChildEnv) == "1" {
		os.Exit(m.Run())
	}
	os.Exit(s.supervise())
}

// supervise is the parent: lab up, tests in a child, lab down, leak check.
func (s Suite) supervise() int {
	if why := s.CannotRun(); why != "" {
		fmt.Printf("%s: skipped: %s\n", s.Name, why)
		return 0
	}
	if _, err := os.Stat(FerryBin()); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v: run `make build` first\n", s.Name, err)
		return 1
	}
	if s.Prepare != nil {
		if err := s.Prepare(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: FAIL: %v\n", s.Name, err)
			return 1
		}
	}
	sup := NewSupervisor(s.Name)
	defer sup.Stop()

	start := time.Now()
	code := s.upAndTest(sup)
	downStart := time.Now()
	if err := s.Down(); err != nil {
		sup.Logf("FAIL: %v", err)
		code = 1
	}
	sup.Logf("lab down and leak check %s; whole run %s",
		time.Since(downStart).Round(100*time.Millisecond), time.Since(start).Round(100*time.Millisecond))
	return code
}

// upAndTest brings the lab up and runs the tests in the child; any
// failure gives 1. A panic here is recovered, so that it does not skip the
// teardown either.
func (s Suite) upAndTest(sup *Supervisor) (code int) {
	defer func() {
		if r := recover(); r != nil {
			sup.Logf("panic: %v", r)
			code = 1
		}
	}()
	env, err := s.Up(sup)
	if err != nil {
		sup.Logf("%v", err)
		return 1
	}
	return sup.RunTests(append([]string{s.ChildEnv + "=1"}, env...)...)
}
