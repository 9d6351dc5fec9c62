package modules

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// wait_for waits, on the target, until a TCP port accepts connections (or
// stops accepting them), or a path exists (holding a line that matches
// search_regex, a POSIX extended regular expression), or is gone. It
// changes nothing: the whole wait is one round trip, a loop on the host
// that gives up after timeout seconds.
func init() {
	register("wait_for", []string{"port", "host", "path", "search_regex", "state", "timeout"}, nil, func(a *argReader) (Module, error) {
		m := &waitFor{
			port:    a.integer("port", 0, 1, 65535),
			host:    a.str("host", "127.0.0.1"),
			path:    a.str("path", ""),
			regex:   a.str("search_regex", ""),
			state:   a.oneOf("state", "started", "started", "stopped", "present", "absent"),
			timeout: a.integer("timeout", 300, 0, 86400),
		}
		if a.err != nil {
			return nil, a.err
		}
		switch {
		case (m.port == 0) == (m.path == ""):
			return nil, fmt.Errorf("wait_for: give port or path (one of them)")
		case m.port != 0 && (m.state == "present" || m.state == "absent"):
			return nil, fmt.Errorf("wait_for: a port is started or stopped, not %s", m.state)
		case m.path != "" && m.state == "stopped":
			return nil, fmt.Errorf("wait_for: a path is present or absent, not stopped")
		case m.regex != "" && (m.path == "" || m.state == "absent"):
			return nil, fmt.Errorf("wait_for: search_regex needs path and state present")
		}
		return m, nil
	})
}

type waitFor struct {
	port                     int
	host, path, regex, state string
	timeout                  int
}

func (m *waitFor) what() string {
	if m.port != 0 {
		verb := "open"
		if m.state == "stopped" {
			verb = "closed"
		}
		return fmt.Sprintf("port %d on %s %s", m.port, m.host, verb)
	}
	switch {
	case m.state == "absent":
		return m.path + " absent"
	case m.regex != "":
		return fmt.Sprintf("%s matching %q", m.path, m.regex)
	}
	return m.path + " present"
}

// condition is a shell test that holds when the wait is over.
func (m *waitFor) condition() string {
	if m.port != 0 {
		connect := "bash -c " + quote("exec 3<>/dev/tcp/"+m.host+"/"+strconv.Itoa(m.port)) + " 2>/dev/null"
		if m.state == "stopped" {
			return "! " + connect
		}
		return connect
	}
	switch {
	case m.state == "absent":
		return "[ ! -e " + quote(m.path) + " ]"
	case m.regex != "":
		return "grep -Eq -- " + quote(m.regex) + " " + quote(m.path) + " 2>/dev/null"
	}
	return "[ -e " + quote(m.path) + " ]"
}

// Plan waits: it only reads. In check mode, once an earlier task would
// have changed the host, what it waits for may be what that task brings
// (a service started, a file written): the outcome is unknown.
func (m *waitFor) Plan(ctx context.Context, t *Target) (Change, error) {
	if t.State != nil {
		if why := t.State.State.Changed(); why != "" {
			return Change{}, &hoststate.UnknownError{What: "whether " + m.what(), Because: why}
		}
	}
	script := fmt.Sprintf("end=$(( $(date +%%s) + %d ))\nwhile :; do\n  if %s; then exit 0; fi\n  [ \"$(date +%%s)\" -ge \"$end\" ] && exit 1\n  sleep 1\ndone\n",
		m.timeout, m.condition())
	res, err := run(ctx, t, "wait_for "+m.what(), executor.Command{Script: script})
	if err != nil {
		return Change{}, err
	}
	if !res.OK() {
		return Change{}, fmt.Errorf("wait_for: %s: not after %ds", m.what(), m.timeout)
	}
	return Change{}, nil
}

func (m *waitFor) Apply(_ context.Context, _ *Target, c Change) (Change, error) { return c, nil }
