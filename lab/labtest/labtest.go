// Package labtest holds what the end-to-end suites (lab/e2e for the nspawn
// lab, lab/e2e/vagrant for VMs) share: finding the repository and its
// bin/ferry, running commands, and supervising the tests. Each suite's
// TestMain is a supervisor (Main, given the suite's Suite): it brings its
// lab up, runs the tests in a child process, and always takes the lab down
// again, so that a panic or a -timeout in a test, which end the process at
// once, still leave the parent to clean up.
package labtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// CommandTimeout bounds any single command of a test. A first deploy on
// the Vagrant lab's emulated VMs (qemu without KVM) took over 10 minutes on
// a loaded machine; the suites' own -timeout remains the final bound.
const CommandTimeout = 25 * time.Minute

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
