package runner

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/executor"
)

// become_user runs a task's privileged operations as another user than
// root. It rides on become: the command goes to the host as root, through
// the connection's persistent root shell (or sudo -n / sudo -S, as every
// become command does), and there `runuser` (util-linux) drops to the
// user. So no per-user shell or session is opened, and with a sudo
// password the one password (the connecting user's, for root) is enough.
// The price: the connecting user needs sudo to root, not only to the
// target user (a sudoers rule for `(postgres)` alone does not do).
//
// Files are read as root (a superset of what the user may read) and
// written as root with the user as owner (and the user's group) unless the
// task gives owner or group, so that a file a task "writes as" a user is
// that user's, as in Ansible.

// userRE keeps a rendered become_user to a plain user name: it goes into
// a command line.
var userRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*\$?$`)

// becomeUser renders the task's become_user (or the connection's) for one
// item; "" when there is none, or it is root.
func (e *Engine) becomeUser(t *roles.Task, connUser string, data map[string]any) (string, error) {
	user := t.BecomeUser
	if user == "" {
		user = connUser
	}
	if strings.Contains(user, "{{") {
		r, err := e.opts.Render.Render(taskName(t)+" become_user", user, data)
		if err != nil {
			return "", err
		}
		user = strings.TrimSpace(r)
	}
	if user != "" && !userRE.MatchString(user) {
		return "", fmt.Errorf("%s: become_user %q is not a user name", taskName(t), user)
	}
	if user == "root" {
		return "", nil
	}
	return user, nil
}

// userExec runs the Become operations of an executor as one user.
type userExec struct {
	executor.Executor
	user string

	mu    sync.Mutex
	group string // the user's primary group, read once
}

func asUser(x executor.Executor, user string) *userExec {
	return &userExec{Executor: x, user: user}
}

// Run runs a Become command as the user: runuser keeps the environment
// the preamble exported (it is not a login) and the command's stdin.
func (u *userExec) Run(ctx context.Context, cmd executor.Command) (executor.Result, error) {
	if cmd.Become {
		cmd.Script = "exec runuser -u " + shq(u.user) + " -- /bin/sh -c " + shq(cmd.Script)
	}
	return u.Executor.Run(ctx, cmd)
}

// Upload writes as root, owned by the user unless the task says.
func (u *userExec) Upload(ctx context.Context, path string, content []byte, opts executor.UploadOptions) error {
	if opts.Become && opts.Owner == "" {
		opts.Owner = u.user
		if opts.Group == "" {
			g, err := u.primaryGroup(ctx)
			if err != nil {
				return err
			}
			opts.Group = g
		}
	}
	return u.Executor.Upload(ctx, path, content, opts)
}

func (u *userExec) primaryGroup(ctx context.Context) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.group != "" {
		return u.group, nil
	}
	res, err := u.Executor.Run(ctx, executor.Command{Script: "id -gn " + shq(u.user), Become: true})
	if err != nil {
		return "", err
	}
	if !res.OK() {
		return "", fmt.Errorf("become_user %s: %s", u.user, strings.TrimSpace(string(res.Stderr)))
	}
	u.group = strings.TrimSpace(string(res.Stdout))
	return u.group, nil
}
