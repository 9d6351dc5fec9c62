// Package modules holds ferry's task modules. Each module reads the current
// state of one thing on a host, compares it with what the task asks for, and
// changes only what differs. Check mode and real runs share the same Plan, so
// what --check reports is exactly what the next real run changes.
package modules

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/modspec"
)

// Target is what a module sees of the host it works on.
type Target struct {
	Exec   executor.Executor
	Facts  map[string]any // read once per host, see Facts()
	Become bool           // run privileged operations through sudo
	// State, in check mode, is the host as earlier tasks of the run would
	// have left it; nil in a real run. Read files through stat, readFile
	// and readText (predict.go), which use it.
	State *hoststate.Overlay
	// Env is the task's environment: (command and shell export it to the
	// commands they run, through stdin).
	Env map[string]string
}

// Change is the plan a module computed: nothing to do when Changed is false.
type Change struct {
	Changed bool
	// Summary lines say what Apply will do, in the words a user expects:
	// "install nginx", "reload nginx", "ufw allow 80/tcp from 198.18.0.11".
	Summary []string
	// Diff is a unified diff for files; empty for other modules.
	Diff string
	// Output carries what a read-only or executed command printed, for register.
	Output *executor.Result
	// Predict records in check mode's predicted state what Apply would
	// leave on the host; nil when the change is not a file-like state
	// check mode predicts.
	Predict func(st *hoststate.State)
	// Facts are variables the task sets for the host's later tasks
	// (set_fact).
	Facts map[string]any
	// Result holds values the task registers besides changed, rc,
	// stdout and stderr (stat's "stat").
	Result map[string]any
	// Message is shown with the task's event (debug).
	Message string
}

// Module is one task's work on one host. A Module value is created per host
// and per task, so it may keep what Plan read for Apply to use.
type Module interface {
	// Plan reads the remote state and reports what Apply would change.
	// It never changes anything on the host.
	Plan(ctx context.Context, t *Target) (Change, error)
	// Apply makes the planned change and verifies it took effect.
	// It is called only after Plan reported Changed.
	Apply(ctx context.Context, t *Target, c Change) (Change, error)
}

// Factory builds a Module from a task's rendered arguments. It returns an
// error naming the argument when one is missing, unknown or of the wrong type.
type Factory func(args map[string]any) (Module, error)

// Spec describes a registered module.
type Spec struct {
	Name string
	// Args lists the argument names the module accepts, so that the role
	// loader can reject unknown arguments before anything runs.
	Args []string
	// Required lists the arguments that must be present.
	Required []string
	// AnyArgs: every argument is a variable name (set_fact); the loader
	// checks only that it can be read in templates.
	AnyArgs bool
	// Files lists the arguments that name files of the role, which the
	// engine reads on the controller and passes in as content.
	Files []modspec.FileArg
	New   Factory
}

var (
	mu       sync.RWMutex
	registry = map[string]Spec{}
)

// Register adds a module, and its spec to modspec for the role loader; it
// panics on a duplicate name (a programming error).
func Register(s Spec) {
	modspec.Register(modspec.Spec{Name: s.Name, Args: s.Args, Required: s.Required, AnyArgs: s.AnyArgs, Files: s.Files})
	mu.Lock()
	defer mu.Unlock()
	registry[s.Name] = s
}

// Lookup returns the module registered under name.
func Lookup(name string) (Spec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := registry[name]
	return s, ok
}

// Names lists the registered modules, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Sorted(maps.Keys(registry))
}

// verifyByPlan is the read-back of modules whose Plan is all the
// verification they need: planned again after Apply, nothing may be left.
func verifyByPlan(ctx context.Context, m Module, t *Target, what string) error {
	again, err := m.Plan(ctx, t)
	if err != nil {
		return fmt.Errorf("%s: verify: %w", what, err)
	}
	if again.Changed {
		return fmt.Errorf("%s: verify: still needs %v", what, again.Summary)
	}
	return nil
}
