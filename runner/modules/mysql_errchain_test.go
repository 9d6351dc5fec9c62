package modules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// failingRun fails every Run with a transport error whose message quotes
// the command's environment, as a careless transport might.
type failingRun struct{ executor.Executor }

func (f failingRun) Run(ctx context.Context, c executor.Command) (executor.Result, error) {
	return executor.Result{}, fmt.Errorf("connection lost running with %v: %w", c.Env, executor.ErrUnreachable)
}

// TestMySQLReadErrorsKeepTheirCause: a MySQL module masks its secrets in a
// read's error but keeps the error's cause, so that the engine still tells
// an unreachable host (or a read still to be fetched in a batch) from a
// failed task.
func TestMySQLReadErrorsKeepTheirCause(t *testing.T) {
	const pw = "s3cret-pw"
	for name, args := range map[string]map[string]any{
		"mysql_user":    {"name": "app", "password": pw},
		"mysql_query":   {"sql": "SELECT 1", "unless": "SELECT 1"},
		"mysql_replica": {"primary_host": "db-01", "user": "repl", "password": pw},
	} {
		tg, _ := localTarget(t)
		tg.Exec = failingRun{tg.Exec}
		_, err := newModule(t, name, args).Plan(context.Background(), tg)
		if !errors.Is(err, executor.ErrUnreachable) {
			t.Errorf("%s: err = %v, want it to wrap ErrUnreachable", name, err)
		}
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}
