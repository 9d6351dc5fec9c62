package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner"
)

// deployOps are deploy's operator options, kept apart from deploy.go: the
// listings that show what would run, --start-at-task, and the live status
// area on a terminal.
type deployOps struct {
	listHosts, listTasks bool
	startAt              string
	noProgress           bool
	sink                 *switchWriter
}

func (o *deployOps) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&o.listHosts, "list-hosts", false, "list the hosts of each play (after --limit) and run nothing")
	fl.BoolVar(&o.listTasks, "list-tasks", false, "list the tasks each play would run (after --tags/--skip-tags) and run nothing")
	fl.StringVar(&o.startAt, "start-at-task", "", "pass over every task before the first task of this name (NAME or \"ROLE : NAME\")")
	fl.BoolVar(&o.noProgress, "no-progress", false, "no live status area on a terminal")
	registerDeployCompletion(cmd)
}

// out is the writer the reporter prints to: stdout, or the status area
// once live opened it.
func (o *deployOps) out(cmd *cobra.Command) io.Writer {
	o.sink = &switchWriter{w: cmd.OutOrStdout()}
	return o.sink
}

// before prints the listings asked for (done: nothing is to run) and checks
// --start-at-task names a task that runs.
func (o *deployOps) before(cmd *cobra.Command, plays []runner.Play, tags, skip []string) (done bool, err error) {
	if o.startAt != "" && !hasTask(plays, o.startAt, tags, skip) {
		return true, badInput(fmt.Errorf("--start-at-task %q: no task of that name runs in the plays selected", o.startAt))
	}
	if !o.listHosts && !o.listTasks {
		return false, nil
	}
	var b strings.Builder
	for _, p := range plays {
		fmt.Fprintf(&b, "play %s (%d hosts)\n", p.Group, len(p.Hosts))
		if o.listHosts {
			for _, h := range p.Hosts {
				fmt.Fprintf(&b, "  %s\n", h.Name)
			}
		}
		if o.listTasks {
			listTasks(&b, p, tags, skip, o.startAt)
		}
	}
	_, err = io.WriteString(cmd.OutOrStdout(), b.String())
	return true, err
}

// listTasks writes a play's tasks in run order, as "role : task  [tags]".
func listTasks(b *strings.Builder, p runner.Play, tags, skip []string, startAt string) {
	started := startAt == ""
	b.WriteString("  tasks:\n")
	for _, r := range p.Roles {
		for _, t := range roles.Flatten(r.Tasks) {
			if !runner.SelectedByTags(t.Tags, tags, skip) {
				continue
			}
			started = started || runner.TaskNamed(t, startAt)
			if !started {
				continue
			}
			line := "    " + r.Name + " : " + t.Name
			if len(t.Tags) > 0 {
				line += "  [" + strings.Join(t.Tags, ", ") + "]"
			}
			b.WriteString(line + "\n")
		}
	}
}

func hasTask(plays []runner.Play, name string, tags, skip []string) bool {
	for _, p := range plays {
		for _, r := range p.Roles {
			for _, t := range roles.Flatten(r.Tasks) {
				if runner.TaskNamed(t, name) && runner.SelectedByTags(t.Tags, tags, skip) {
					return true
				}
			}
		}
	}
	return false
}

// live opens the status area when stdout is a terminal and the output is
// human; the reporter then prints above it. The returned func closes it.
func (o *deployOps) live(cmd *cobra.Command, rep runner.Reporter, output string, plays []runner.Play) (runner.Reporter, func()) {
	total := 0
	var hosts []*inventory.Host
	for _, p := range plays {
		total += len(p.Hosts)
		hosts = append(hosts, p.Hosts...)
	}
	l := startLive(cmd, output, o.noProgress, total, hosts)
	if l == nil {
		return rep, func() {}
	}
	o.sink.set(l.d)
	return &liveReporter{Reporter: rep, l: l}, l.close
}

// switchWriter forwards to a writer that can be replaced while in use.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	return w.Write(p)
}
