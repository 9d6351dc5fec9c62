package modules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// unreachable fails every call as a lost connection would, its message
// quoting the command's environment as a careless transport might.
type unreachable struct{ executor.Executor }

func (unreachable) Run(ctx context.Context, c executor.Command) (executor.Result, error) {
	return executor.Result{}, fmt.Errorf("connection lost running with %v: %w", c.Env, executor.ErrUnreachable)
}
func (unreachable) Stat(ctx context.Context, p string, b bool) (executor.FileInfo, error) {
	return executor.FileInfo{}, fmt.Errorf("stat %s: %w", p, executor.ErrUnreachable)
}
func (unreachable) ReadFile(ctx context.Context, p string, b bool) ([]byte, error) {
	return nil, fmt.Errorf("read %s: %w", p, executor.ErrUnreachable)
}

// readErrArgs is a task of each module that reads the host when it plans;
// readsNothing lists the modules whose plan asks the host nothing.
var (
	readErrArgs = map[string]map[string]any{
		"apt_repository": {"name": "x", "uris": "http://198.18.0.1/", "suites": "bookworm", "components": "main"},
		"command":        {"cmd": "true", "unless": "true"},
		"copy":           {"dest": "/tmp/f", "content": "x"},
		"cron":           {"name": "x", "job": "true"},
		"file":           {"path": "/tmp/f", "state": "directory"},
		"get_url":        {"url": "http://198.18.0.1/f", "dest": "/tmp/f"},
		"group":          {"name": "x"},
		"line":           {"path": "/tmp/f", "line": "x"},
		"mysql_query":    {"sql": "SELECT 1", "unless": "SELECT 1"},
		"mysql_replica":  {"primary_host": "db-01", "user": "repl", "password": "s3cret-pw"},
		"mysql_user":     {"name": "app", "password": "s3cret-pw"},
		"package":        {"names": []any{"curl"}},
		"service":        {"name": "x", "state": "started"},
		"shell":          {"cmd": "true", "creates": "/tmp/f"},
		"stat":           {"path": "/tmp/f"},
		"sysctl":         {"name": "vm.swappiness", "value": "1"},
		"systemd_unit":   {"name": "x.service", "content": "[Unit]\n"},
		"template":       {"dest": "/tmp/f", "content": "x"},
		"ufw":            {"state": "enabled"},
		"unarchive":      {"dest": "/tmp/d", "src": "/tmp/a.tar.gz", "remote_src": true},
		"user":           {"name": "x"},
		"wait_for":       {"port": 80},
	}
	readsNothing = map[string]bool{"assert": true, "debug": true, "fail": true, "flush_handlers": true, "set_fact": true}
)

// TestReadErrorsKeepTheirCause: when a read fails, a module's plan error
// still wraps the cause, with any secret masked out of its message. The
// engine depends on the cause: an unreachable host is not a failed task,
// and while a plan's reads are collected for its host's batch, a read not
// fetched yet must not end the host's plan (a MariaDB module that cut the
// chain cost db-01 eight round trips on a no-op instead of two).
func TestReadErrorsKeepTheirCause(t *testing.T) {
	for _, name := range Names() {
		args, ok := readErrArgs[name]
		if !ok {
			if !readsNothing[name] {
				t.Errorf("%s: no task in readErrArgs (or list it in readsNothing)", name)
			}
			continue
		}
		tg, _ := localTarget(t)
		tg.Exec = unreachable{tg.Exec}
		tg.Facts["pkg_mgr"] = "apt"
		_, err := newModule(t, name, args).Plan(context.Background(), tg)
		var unknown *hoststate.UnknownError
		switch {
		case errors.As(err, &unknown):
			t.Errorf("%s: err = %v, a read error taken for unknown state", name, err)
		case !errors.Is(err, executor.ErrUnreachable):
			t.Errorf("%s: err = %v, want it to wrap ErrUnreachable", name, err)
		case strings.Contains(err.Error(), "s3cret-pw"):
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}
