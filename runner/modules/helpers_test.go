package modules

import (
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/local"
)

var update = flag.Bool("update", false, "rewrite golden files")

// recorder wraps a real executor and keeps every script it was asked to run,
// so tests can count round trips and look for leaked secrets.
type recorder struct {
	executor.Executor
	mu      sync.Mutex
	scripts []string
	calls   int
}

func (r *recorder) Run(ctx context.Context, c executor.Command) (executor.Result, error) {
	r.mu.Lock()
	r.scripts = append(r.scripts, c.Script)
	r.calls++
	r.mu.Unlock()
	return r.Executor.Run(ctx, c)
}

func (r *recorder) Stat(ctx context.Context, p string, b bool) (executor.FileInfo, error) {
	r.count()
	return r.Executor.Stat(ctx, p, b)
}

func (r *recorder) ReadFile(ctx context.Context, p string, b bool) ([]byte, error) {
	r.count()
	return r.Executor.ReadFile(ctx, p, b)
}

func (r *recorder) Upload(ctx context.Context, p string, c []byte, o executor.UploadOptions) error {
	r.count()
	return r.Executor.Upload(ctx, p, c, o)
}

func (r *recorder) count() {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
}

// reset returns the number of calls since the last reset.
func (r *recorder) reset() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.calls
	r.calls = 0
	return n
}

func localTarget(t *testing.T) (*Target, *recorder) {
	t.Helper()
	rec := &recorder{Executor: local.New(local.Options{})}
	return &Target{Exec: rec, Facts: map[string]any{}}, rec
}

// localTargetB is localTarget for a benchmark, without the recorder, so
// that what it allocates is the module's alone.
func localTargetB(b *testing.B) *Target {
	return &Target{Exec: local.New(local.Options{}), Facts: map[string]any{}}
}

// predicting puts tg in check mode: its reads go through a fresh prediction
// over its executor, returned for the test to seed and to inspect.
func predicting(tg *Target) *hoststate.State {
	st := hoststate.New()
	tg.State = hoststate.NewOverlay(st, tg.Exec)
	return st
}

// writeFile and symlink make what a test starts from, and end the test
// when they cannot.
func writeFile(t testing.TB, name string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, data, perm); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := os.Symlink(oldname, newname); err != nil {
		t.Fatal(err)
	}
}

// planIntoPredictedFolder plans a task writing into dir in check mode:
// while the host lacks dir the plan fails saying missing; once an earlier
// task is predicted to create dir (with become or not), it plans a change
// and a prediction, which it applies to st for the tasks after.
func planIntoPredictedFolder(t *testing.T, tg *Target, st *hoststate.State, name string, args map[string]any, dir string, become bool, missing string) {
	t.Helper()
	ctx := context.Background()
	if _, err := newModule(t, name, args).Plan(ctx, tg); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("plan into a missing folder: %v", err)
	}
	st.Ensure(dir, become)
	c, err := newModule(t, name, args).Plan(ctx, tg)
	if err != nil || !c.Changed || c.Predict == nil {
		t.Fatalf("plan into a predicted folder: %+v %v", c, err)
	}
	c.Predict(st)
}

// liveSwappiness is the controller's vm.swappiness, which the sysctl tests
// persist as it is (they must not change the controller's kernel); a
// kernel without it skips the test.
func liveSwappiness(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/vm/swappiness")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("this kernel has no /proc/sys/vm/swappiness to read")
	}
	if err != nil {
		t.Fatal(err) // there but unreadable: a failure, not a machine without it
	}
	return strings.TrimSpace(string(b))
}

func newModule(t *testing.T, name string, args map[string]any) Module {
	t.Helper()
	spec, ok := Lookup(name)
	if !ok {
		t.Fatalf("module %s not registered", name)
	}
	m, err := spec.New(args)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// converge runs Plan and Apply, then a fresh module's Plan, which must report
// no change and cost exactly one round trip.
func converge(t *testing.T, tg *Target, rec *recorder, name string, args map[string]any) Change {
	t.Helper()
	return convergeIn(t, tg, rec, name, args, 1)
}

// convergeIn is converge for a module whose no-op plan costs trips round
// trips.
func convergeIn(t *testing.T, tg *Target, rec *recorder, name string, args map[string]any, trips int) Change {
	t.Helper()
	ctx := context.Background()
	c, err := newModule(t, name, args).Plan(ctx, tg)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if !c.Changed {
		t.Fatalf("first plan reports no change")
	}
	m := newModule(t, name, args)
	if _, err := m.Plan(ctx, tg); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(ctx, tg, c); err != nil {
		t.Fatalf("apply: %v", err)
	}
	rec.reset()
	again, err := newModule(t, name, args).Plan(ctx, tg)
	if err != nil {
		t.Fatalf("second plan: %v", err)
	}
	if again.Changed {
		t.Fatalf("second plan still changes: %v\n%s", again.Summary, again.Diff)
	}
	if n := rec.reset(); n != trips {
		t.Errorf("no-op plan cost %d round trips, want %d", n, trips)
	}
	return c
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		writeFile(t, path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("%s mismatch:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// normalize replaces the temp dir in a diff so golden files are stable.
func normalize(s, dir string) string { return strings.ReplaceAll(s, dir, "DIR") }

func compileOrNil(expr string) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	return regexp.MustCompile(expr)
}
