// Package adhoc runs one shell command on many hosts at once, outside any
// role: `ferry run PATTERN -- COMMAND`. Connections come from the caller's
// connect function, the same one deploy uses, so host keys, jump hosts and
// sudo behave as in a deploy; the command costs one executor call per host.
package adhoc

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
)

// Options configure an ad-hoc run.
type Options struct {
	// Script is the shell text run by /bin/sh on every host. It must not
	// carry secrets: command lines show in the target's process list.
	Script string
	// Env holds each host's environment for the command (rendered per host
	// by the caller); it travels on stdin, so values may be secret.
	Env map[string]map[string]string
	// Become runs the command through sudo; BecomeUser, when set, runs it
	// as that user (through runuser, as root).
	Become     bool
	BecomeUser string
	// Forks bounds how many hosts work at once (default 50).
	Forks int
	// CommandTimeout bounds the command on each host (0: no bound).
	CommandTimeout time.Duration
	// Connect opens a host's connection.
	Connect func(ctx context.Context, h *inventory.Host) (executor.Executor, error)
	// Progress, when set, hears when each host connects, runs and ends.
	Progress Progress
}

// Progress is told how each host moves along; implementations must be safe
// for concurrent use.
type Progress interface {
	HostStep(host, step string)
	HostDone(host string)
}

// Result is one host's outcome.
type Result struct {
	Host     string
	Stdout   string
	Stderr   string
	ExitCode int
	// Err is set when the host could not run the command at all
	// (unreachable, connection lost); ExitCode is then -1.
	Err      error
	Duration time.Duration
	// Calls counts the executor calls the command cost on the host once
	// connected (one, unless something went wrong).
	Calls int
}

// Unreachable reports whether the command never got an exit status.
func (r Result) Unreachable() bool { return r.Err != nil }

// Run runs the command on every host, in parallel, and returns the results
// in the order of hosts.
func Run(ctx context.Context, hosts []*inventory.Host, o Options) []Result {
	forks := o.Forks
	if forks <= 0 {
		forks = 50
	}
	script := o.Script
	if o.BecomeUser != "" {
		// runuser keeps the environment the preamble exported.
		script = "exec runuser -u " + Quote(o.BecomeUser) + " -- /bin/sh -c " + Quote(o.Script)
	}
	results := make([]Result, len(hosts))
	var g errgroup.Group
	g.SetLimit(forks)
	for i, h := range hosts {
		g.Go(func() error {
			results[i] = runOne(ctx, h, script, o)
			if o.Progress != nil {
				o.Progress.HostDone(h.Name)
			}
			return nil
		})
	}
	_ = g.Wait() // runOne reports into results, never through the group
	return results
}

func runOne(ctx context.Context, h *inventory.Host, script string, o Options) Result {
	start := time.Now()
	r := Result{Host: h.Name, ExitCode: -1}
	step := func(s string) {
		if o.Progress != nil {
			o.Progress.HostStep(h.Name, s)
		}
	}
	step("connecting")
	x, err := o.Connect(ctx, h)
	if err != nil {
		r.Err, r.Duration = err, time.Since(start)
		return r
	}
	defer x.Close()
	cx := &countingExec{Executor: x}
	step("running")
	rctx := ctx
	if o.CommandTimeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, o.CommandTimeout)
		defer cancel()
	}
	// An empty stdin sends the command through a session of its own rather
	// than the connection's persistent shell: for a single command that is
	// one network round trip less (BenchmarkRunRoundTrips), and no shell
	// is left behind.
	res, err := cx.Run(rctx, executor.Command{Script: script, Env: o.Env[h.Name],
		Become: o.Become || o.BecomeUser != "", Stdin: strings.NewReader("")})
	r.Calls = int(cx.calls.Load())
	r.Duration = time.Since(start)
	switch {
	case err != nil && errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		r.Err = errors.New("command timed out after " + o.CommandTimeout.String())
	case err != nil:
		r.Err = err
	default:
		r.Stdout, r.Stderr, r.ExitCode = string(res.Stdout), string(res.Stderr), res.ExitCode
	}
	return r
}

// countingExec counts Run calls, the only call an ad-hoc command makes.
type countingExec struct {
	executor.Executor
	calls atomic.Int64
}

func (c *countingExec) Run(ctx context.Context, cmd executor.Command) (executor.Result, error) {
	c.calls.Add(1)
	return c.Executor.Run(ctx, cmd)
}

// Quote makes s one word for /bin/sh.
func Quote(s string) string { return shell.Quote(s) }
