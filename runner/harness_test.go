package runner_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/facts"
	"github.com/ferry-deploy/ferry/runner/hostconn"
	"github.com/ferry-deploy/ferry/runner/local"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
	"github.com/ferry-deploy/ferry/runner/statedir"
	"github.com/ferry-deploy/ferry/templates"
)

// canary is a secret that must never reach any output.
const canary = "canary-Zq7-secret-4711"

// lab is a set of in-process SSH servers described by a real inventory
// file, each host with its own root folder for the test role to manage.
type lab struct {
	t     *testing.T
	dir   string
	inv   *inventory.Inventory
	roots map[string]string
	// rolePaths are searched for roles before testdata/roles.
	rolePaths []string
	// shared, when set, is the one connection every run uses (it is not
	// closed by a run), so that thousands of runs cost no handshake.
	shared executor.Executor
	// gather, when set, reads facts instead of facts.GatherIn.
	gather func(ctx context.Context, x executor.Executor, stateDir string) (map[string]any, statedir.Left, error)
}

type keepOpen struct{ executor.Executor }

func (keepOpen) Close() error { return nil }

// newLab starts n SSH servers and writes an inventory naming them h01..hNN,
// in one group "site" running the testdata role "site".
func newLab(t *testing.T, n int, role string) *lab {
	t.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("h%02d", i+1)
	}
	f := sshtest.NewFleet(t, names)
	dir := f.Dir
	roots := map[string]string{}
	for name, srv := range f.Servers {
		roots[name] = srv.Dir
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets.yml"), []byte("site_password: "+canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	invText := fmt.Sprintf(`%ssecrets: secrets.yml
groups:
  site:
    roles: [%s]
    hosts:
%s`, f.Connection("root", 0), role, f.HostLines("      "))
	path := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(path, []byte(invText), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	return &lab{t: t, dir: dir, inv: inv, roots: roots}
}

// recorder keeps every event and the recap of a run.
type recorder struct {
	mu     sync.Mutex
	events []runner.Event
	recap  runner.Recap
}

func (r *recorder) Event(ev runner.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) Recap(rc runner.Recap) { r.recap = rc }

// changed lists "host role:task[item]" for every changed task or handler, sorted.
func (r *recorder) changed() []string {
	var out []string
	for _, ev := range r.events {
		if ev.Status == runner.StatusChanged {
			out = append(out, fmt.Sprintf("%s %s:%s[%s]", ev.Host, ev.Role, ev.Task, ev.Item))
		}
	}
	sortStrings(out)
	return out
}

type runOpts struct {
	check, diff bool
	forks       int
	extra       map[string]any
	rep         runner.Reporter
	// ctx and wrap, when set, run the deploy under ctx and wrap each
	// host's executor (to inject faults at a precise step).
	ctx  context.Context
	wrap func(executor.Executor) executor.Executor
	// lb drains hosts through load balancers (drain: through:).
	lb runner.LoadBalancer
	// dialing, when set, hears every connection the engine opens.
	dialing func(h *inventory.Host)
	// limit selects hosts as --limit does.
	limit string
}

// deploy runs the lab's plays the way `ferry deploy` does.
func (l *lab) deploy(o runOpts) (*recorder, runner.Recap, error) {
	l.t.Helper()
	rec := &recorder{}
	var rep runner.Reporter = rec
	if o.rep != nil {
		rep = multi{rec, o.rep}
	}
	loader := &roles.Loader{Paths: append(slices.Clone(l.rolePaths), "testdata/roles")}
	plays, err := runner.BuildPlays(l.inv, loader, o.limit)
	if err != nil {
		return rec, runner.Recap{}, err
	}
	gather := facts.GatherIn
	if l.gather != nil {
		gather = l.gather
	}
	eng := runner.New(l.inv, runner.Options{
		Check: o.check, Diff: o.diff, Extra: o.extra, Forks: cmp.Or(o.forks, 10), LoadBalancer: o.lb,
		Connect: func(ctx context.Context, h *inventory.Host) (executor.Executor, error) {
			if o.dialing != nil {
				o.dialing(h)
			}
			if l.shared != nil {
				return keepOpen{l.shared}, nil
			}
			if h.Address == "localhost" { // delegate_to: localhost
				return local.New(local.Options{}), nil
			}
			cfg := hostconn.SSHConfig(h, l.inv.Secrets, l.dir)
			cfg.SSHConfigFile = "none"
			cfg.ConnectTimeout = 10 * time.Second
			c, err := sshx.Dial(ctx, cfg)
			if err != nil || o.wrap == nil {
				return c, err
			}
			return o.wrap(c), nil
		},
		Gather: gather,
		Render: templates.New(templates.Options{Inventory: invView{l.inv}, BaseDir: l.dir}),
		Report: rep,
	})
	rc, err := eng.Run(cmp.Or(o.ctx, context.Background()), plays)
	return rec, rc, err
}

type multi []runner.Reporter

func (m multi) Event(ev runner.Event) {
	for _, r := range m {
		r.Event(ev)
	}
}

func (m multi) Recap(rc runner.Recap) {
	for _, r := range m {
		r.Recap(rc)
	}
}

// invView is the template helpers' view of the inventory.
type invView struct{ inv *inventory.Inventory }

func (v invView) HostsOf(group string) ([]templates.HostView, bool) {
	var out []templates.HostView
	for _, h := range v.inv.HostsOf(group) {
		out = append(out, templates.HostView{Name: h.Name, Address: h.Address, Vars: v.inv.VarsFor(h, nil, nil)})
	}
	return out, v.inv.Groups[group] != nil
}

func (v invView) HostVars(host string) (map[string]any, bool) {
	h := v.inv.Host(host)
	if h == nil {
		return nil, false
	}
	return v.inv.VarsFor(h, nil, nil), true
}

func sortStrings(s []string) { sort.Strings(s) }
