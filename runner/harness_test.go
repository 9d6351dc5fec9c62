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
	"github.com/ferry-deploy/ferry/roles/support"
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
	gather func(ctx context.Context, x executor.Executor, w statedir.Where) (map[string]any, statedir.Left, error)
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
	// lb drains hosts through load balancers (drain: through:); unset,
	// HAProxy's as in ferry deploy, unless noLB leaves the engine none.
	lb   runner.LoadBalancer
	noLB bool
	// dialing, when set, hears every connection the engine opens.
	dialing func(h *inventory.Host)
	// limit selects hosts as --limit does.
	limit string
}

func (o runOpts) loadBalancer() runner.LoadBalancer {
	switch {
	case o.noLB:
		return nil
	case o.lb != nil:
		return o.lb
	}
	return support.HAProxy{}
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
		Check: o.check, Diff: o.diff, Extra: o.extra, Forks: cmp.Or(o.forks, 10), LoadBalancer: o.loadBalancer(),
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

// The role fixture most engine tests share: hosts running a role whose
// text the test writes (roleLab, writeRole, writeRoleFiles); runs (run,
// expect, mustDeploy, checkThenRun, converged); what a run reported
// (statuses, byHost, last, wantStatuses, wantByHost); the files on the
// hosts (file, exists, put, wantFile).

// roleLab starts n hosts, as newLab does, whose play runs one role, name,
// with roleYAML as its role.yml.
func roleLab(t *testing.T, n int, name, roleYAML string) *lab {
	t.Helper()
	l := newLab(t, n, name)
	l.writeRole(name, roleYAML)
	return l
}

// writeRole writes role.yml of a role named name into a fresh folder and
// has the lab find it there.
func (l *lab) writeRole(name, roleYAML string) {
	l.t.Helper()
	l.writeRoleFiles(name, map[string]string{"role.yml": roleYAML})
}

// writeRoleFiles writes a role's files (role.yml, tasks/x.yml, ...) into a
// fresh folder the lab searches.
func (l *lab) writeRoleFiles(name string, files map[string]string) {
	l.t.Helper()
	dir := filepath.Join(l.t.TempDir(), "roles")
	for file, text := range files {
		path := filepath.Join(dir, name, file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			l.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			l.t.Fatal(err)
		}
	}
	l.rolePaths = append(l.rolePaths, dir)
}

// run deploys as o says and fails the test on an error; a task that fails
// is no error (the recap counts it).
func (l *lab) run(o runOpts) (*recorder, runner.Recap) {
	l.t.Helper()
	rec, rc, err := l.deploy(o)
	if err != nil {
		l.t.Fatalf("deploy (check %v): %v", o.check, err)
	}
	return rec, rc
}

// expect runs as o says and fails the test unless the run reported want,
// "task[item]=status" in order (statuses).
func (l *lab) expect(o runOpts, want ...string) (*recorder, runner.Recap) {
	l.t.Helper()
	rec, rc := l.run(o)
	wantStatuses(l.t, fmt.Sprintf("check %v (recap %+v)", o.check, rc), rec, want...)
	return rec, rc
}

// mustDeploy runs as o says and fails the test unless every task and
// host went through.
func mustDeploy(t *testing.T, l *lab, o runOpts) (*recorder, runner.Recap) {
	t.Helper()
	rec, rc, err := l.deploy(o)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if rc.Failed > 0 || rc.Unreachable > 0 {
		t.Fatalf("deploy failed: %+v\nevents: %+v", rc, rec.events)
	}
	return rec, rc
}

// checkThenRun runs the role in check mode and then for real and fails
// unless check reported exactly what the real run changed.
func checkThenRun(t *testing.T, l *lab) (check, real *recorder) {
	t.Helper()
	check, crc, err := l.deploy(runOpts{check: true, diff: true})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	real, rrc, err := l.deploy(runOpts{diff: true})
	if err != nil {
		t.Fatalf("real run: %v", err)
	}
	if crc.Failed > 0 || rrc.Failed > 0 || crc.Unknown > 0 {
		t.Fatalf("check %v, real run %v: want no failure and nothing unknown", check.statuses(), real.statuses())
	}
	if !slices.Equal(check.statuses(), real.statuses()) {
		t.Fatalf("check mode reported %v, the real run did %v", check.statuses(), real.statuses())
	}
	return check, real
}

// converged fails the test unless another real run changes nothing and
// check mode then reports nothing.
func converged(t *testing.T, l *lab, opts ...runOpts) {
	t.Helper()
	var o runOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	again, rc, err := l.deploy(o)
	if err != nil || rc.Changed != 0 || rc.Failed != 0 {
		t.Errorf("second run: %v, changed %v", err, again.changed())
	}
	o.check = true
	check, rc, err := l.deploy(o)
	if err != nil || rc.Changed != 0 || rc.Unknown != 0 || rc.Failed != 0 {
		t.Errorf("check after the run: %v, %v", err, check.byHost())
	}
}

// statuses lists "task[item]=status" for every task event, in order.
func (r *recorder) statuses() []string {
	var out []string
	for _, ev := range r.events {
		if ev.Kind == "task" || ev.Kind == "handler" {
			out = append(out, ev.Task+"["+ev.Item+"]="+string(ev.Status))
		}
	}
	return out
}

// byHost lists "host task=status" sorted, for runs over several hosts.
func (r *recorder) byHost() []string {
	var out []string
	for _, ev := range r.events {
		if ev.Kind == "task" {
			out = append(out, ev.Host+" "+ev.Task+"="+string(ev.Status))
		}
	}
	slices.Sort(out)
	return out
}

// last is the last event of the named task, the zero Event when it has
// none.
func (r *recorder) last(task string) runner.Event {
	var found runner.Event
	for _, ev := range r.events {
		if ev.Task == task {
			found = ev
		}
	}
	return found
}

// wantStatuses fails the test unless rec reported want, "task[item]=status"
// in order (statuses); what names the run.
func wantStatuses(t *testing.T, what string, rec *recorder, want ...string) {
	t.Helper()
	if got := rec.statuses(); !slices.Equal(got, want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
}

// wantByHost fails the test, and goes on, unless rec reported want,
// "host task=status" sorted (byHost); what names the run.
func wantByHost(t *testing.T, what string, rec *recorder, want ...string) {
	t.Helper()
	if got := rec.byHost(); !slices.Equal(got, want) {
		t.Errorf("%s: %v\nwant %v", what, got, want)
	}
}

// file reads name below host's root folder: its content, or "<error>"
// when it cannot be read.
func (l *lab) file(host, name string) string {
	l.t.Helper()
	return readFile(l.t, filepath.Join(l.roots[host], name))
}

// exists says whether name is there below host's root folder.
func (l *lab) exists(host, name string) bool {
	_, err := os.Stat(filepath.Join(l.roots[host], name))
	return err == nil
}

// put writes content to name below host's root folder.
func (l *lab) put(host, name, content string) {
	l.t.Helper()
	if err := os.WriteFile(filepath.Join(l.roots[host], name), []byte(content), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// wantFile fails the test, and goes on, unless name below host's root
// folder holds want; what says what the file shows, for the message.
func (l *lab) wantFile(host, name, want, what string) {
	l.t.Helper()
	if got := l.file(host, name); got != want {
		l.t.Errorf("%s: %s on %s holds %q, want %q", what, name, host, got, want)
	}
}

// readFile returns the content of path, or "<error>" when it cannot be
// read.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}
