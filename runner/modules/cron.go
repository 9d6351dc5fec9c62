package modules

import (
	"fmt"
	"regexp"
	"strings"
)

// cron manages one job as a file of /etc/cron.d (Ansible's cron with
// cron_file): the file is written by the copy module, so it is read
// first, changed only when it differs, shown as a diff, verified, and
// predicted in check mode like any file. User crontabs are not managed.
func init() {
	register("cron", []string{"name", "job", "minute", "hour", "day", "month", "weekday", "user", "state", "env", "cron_file"}, []string{"name"},
		func(a *argReader) (Module, error) {
			name := a.str("name", "")
			state := a.presence()
			fields := []string{a.str("minute", "*"), a.str("hour", "*"), a.str("day", "*"), a.str("month", "*"), a.str("weekday", "*")}
			user, job := a.str("user", "root"), a.str("job", "")
			var env []string
			if a.has("env") {
				env = a.list("env")
			}
			if a.err != nil {
				return nil, a.err
			}
			if !cronNameRE.MatchString(name) {
				// run-parts, which cron follows, ignores other names
				// (a dot: "app.cron" would never run).
				return nil, fmt.Errorf("cron: name %q: use letters, digits, _ and - only (cron ignores files of /etc/cron.d with other names)", name)
			}
			path := a.str("cron_file", "/etc/cron.d/"+name)
			if a.err != nil {
				return nil, a.err
			}
			if !strings.HasPrefix(path, "/") || !cronNameRE.MatchString(path[strings.LastIndex(path, "/")+1:]) {
				return nil, fmt.Errorf("cron: cron_file %q: want an absolute path whose name has letters, digits, _ and - only", path)
			}
			if state == "absent" {
				return mustNew("file", map[string]any{"path": path, "state": "absent"})
			}
			if strings.TrimSpace(job) == "" || strings.Contains(job, "\n") {
				return nil, fmt.Errorf("cron: job must be one non-empty line")
			}
			for i, f := range fields {
				if !cronFieldRE.MatchString(f) {
					return nil, fmt.Errorf("cron: %s %q is not a cron time field", []string{"minute", "hour", "day", "month", "weekday"}[i], f)
				}
			}
			if !userRE.MatchString(user) {
				return nil, fmt.Errorf("cron: user %q is not a user name", user)
			}
			var b strings.Builder
			b.WriteString("# managed by ferry: cron " + name + "\n")
			for _, e := range env {
				if !strings.Contains(e, "=") || strings.Contains(e, "\n") {
					return nil, fmt.Errorf("cron: env %q: want NAME=value", e)
				}
				b.WriteString(e + "\n")
			}
			fmt.Fprintf(&b, "%s %s %s\n", strings.Join(fields, " "), user, job)
			// Owner: the connecting (or become) user, root on a real
			// host; cron ignores files of /etc/cron.d it does not own.
			return mustNew("copy", map[string]any{"dest": path, "content": b.String(), "mode": "0644"})
		})
}

var (
	cronNameRE  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	cronFieldRE = regexp.MustCompile(`^(\*|[0-9A-Za-z]+([-,/][0-9A-Za-z]+)*|\*/[0-9]+)$`)
	userRE      = regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?$`)
)

// mustNew builds another registered module for a module built on it.
func mustNew(name string, args map[string]any) (Module, error) {
	spec, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("module %q is not registered", name)
	}
	return spec.New(args)
}
