package runner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// cancelAfterUpload cancels the run right after an upload to a path ending
// in suffix succeeded: the interruption lands between the rename into
// place and the task's verification.
type cancelAfterUpload struct {
	executor.Executor
	suffix string
	cancel context.CancelFunc
}

func (c cancelAfterUpload) Upload(ctx context.Context, p string, content []byte, o executor.UploadOptions) error {
	err := c.Executor.Upload(ctx, p, content, o)
	if err == nil && strings.HasSuffix(p, c.suffix) {
		c.cancel()
	}
	return err
}

// TestInterruptAfterRenameKeepsHandler: a run interrupted once a changed
// file is in place, before the task finished, still records the handler
// the task notifies, so that the next run (which finds the file right)
// runs it.
func TestInterruptAfterRenameKeepsHandler(t *testing.T) {
	l := newLab(t, 1, "site")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec, _, _ := l.deploy(runOpts{ctx: ctx, wrap: func(e executor.Executor) executor.Executor {
		return cancelAfterUpload{Executor: e, suffix: "/site.conf", cancel: cancel}
	}})
	if !l.exists("h01", "etc/site/site.conf") {
		t.Fatal("the interrupted run did not put site.conf in place")
	}
	if got := rec.changed(); len(got) == 0 || !strings.Contains(strings.Join(got, " "), "site config") {
		t.Errorf("the change made before the interruption is not reported: %v\nevents %+v", got, rec.events)
	}
	if l.exists("h01", "var/reloads") {
		t.Fatal("the handler ran in the interrupted run")
	}
	mustDeploy(t, l, runOpts{})
	if n := strings.Count(l.file("h01", "var/reloads"), "reload"); n != 1 {
		t.Errorf("the handler ran %d times in the next run, want 1", n)
	}
}
