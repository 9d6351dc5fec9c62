package runner

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/executor"
)

type rolesTask = roles.Task

// countingExecutor counts the exchanges a host costs, so that the recap can
// show round trips per task (each call is one SSH round trip or more).
type countingExecutor struct {
	executor.Executor
	calls atomic.Int64
	reads readLog // for saved plans: what each step read
	// warm, when set, answers the first items' reads from the host's
	// plan, without a round trip (warm.go).
	warm *warmReads
}

func (c *countingExecutor) Run(ctx context.Context, cmd executor.Command) (executor.Result, error) {
	if a, ok := c.warm.answer(executor.Read{Kind: executor.ReadRun, Become: cmd.Become, Cmd: cmd}); ok {
		return a.Result, a.Err
	}
	c.calls.Add(1)
	return c.Executor.Run(ctx, cmd)
}

func (c *countingExecutor) Stat(ctx context.Context, path string, become bool) (executor.FileInfo, error) {
	if a, ok := c.warm.answer(executor.Read{Kind: executor.ReadStat, Path: path, Become: become}); ok {
		return a.Info, a.Err
	}
	c.calls.Add(1)
	fi, err := c.Executor.Stat(ctx, path, become)
	if err == nil {
		c.reads.add("stat "+path, fmt.Appendf(nil, "%+v", fi))
	}
	return fi, err
}

func (c *countingExecutor) ReadFile(ctx context.Context, path string, become bool) ([]byte, error) {
	if a, ok := c.warm.answer(executor.Read{Kind: executor.ReadContent, Path: path, Become: become}); ok {
		return a.Content, a.Err
	}
	c.calls.Add(1)
	b, err := c.Executor.ReadFile(ctx, path, become)
	if err == nil {
		c.reads.add("read "+path, b)
	}
	return b, err
}

func (c *countingExecutor) Upload(ctx context.Context, path string, content []byte, opts executor.UploadOptions) error {
	c.calls.Add(1)
	return c.Executor.Upload(ctx, path, content, opts)
}

func (c *countingExecutor) Remove(ctx context.Context, path string, become bool) error {
	c.calls.Add(1)
	return c.Executor.Remove(ctx, path, become)
}
