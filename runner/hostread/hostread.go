// Package hostread holds ferry's readers of host state. A reader pairs the
// script that reads one kind of state on a host with the parser of that
// script's output (pyinfra's facts are the model), so that modules, the
// load balancer drain and `ferry status` read a host the same way and a
// parser is tested once, on recorded real output (testdata/).
//
// Readers only read: their scripts change nothing and carry no secret.
// A caller that reads several things in one round trip puts the scripts
// side by side and hands each reader its own part of the output.
package hostread

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// Reader reads one kind of state from a host.
type Reader[T any] struct {
	// Name says what is read, for errors ("systemd units").
	Name string
	// Script is the POSIX sh that prints the state.
	Script string
	// Parse turns the script's standard output into the state.
	Parse func(out string) (T, error)
}

// Read runs the script on x (one round trip) and parses what it printed;
// a non-zero exit is an error carrying the script's stderr.
func (r Reader[T]) Read(ctx context.Context, x executor.Executor, become bool) (T, error) {
	var zero T
	res, err := x.Run(ctx, executor.Command{Script: r.Script, Become: become})
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", r.Name, err)
	}
	if !res.OK() {
		return zero, fmt.Errorf("read %s: exit %d: %s", r.Name, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	v, err := r.Parse(string(res.Stdout))
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", r.Name, err)
	}
	return v, nil
}

// infallible adapts a parser that cannot fail to Reader.Parse.
func infallible[T any](parse func(string) T) func(string) (T, error) {
	return func(s string) (T, error) { return parse(s), nil }
}
