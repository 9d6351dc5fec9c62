// Package roles defines ferry's role format, loads roles from user folders
// and from the built-in set embedded in the binary, and checks them before
// anything runs.
package roles

import "github.com/ferry-deploy/ferry/runner/modspec"

// Role is a loaded role: its defaults, tasks and handlers, and where its
// templates and files come from.
type Role struct {
	Name string
	// Source is the role.yml path shown in errors ("builtin:nginx/role.yml"
	// for embedded roles).
	Source string
	// Builtin is true when the role came from the set embedded in ferry.
	Builtin bool
	// Overrides lists the sources of roles with the same name that this
	// one hides, in search order ("builtin:nginx/role.yml" when a user
	// role replaces a built-in one).
	Overrides []string
	Defaults  map[string]any
	// DependencyNames are the roles listed under dependencies: in
	// role.yml, and Dependencies those roles loaded. A play runs a role's
	// dependencies before it, each role once per host per run.
	DependencyNames []string
	Dependencies    []*Role
	// AllowDuplicates (allow_duplicates: true in role.yml) runs the role
	// each time a role of the run depends on it, instead of once per host
	// per run.
	AllowDuplicates bool
	Tasks           []*Task
	// Handlers run at most once per host, at the end of the host's play, in
	// the order they are declared, when a changed task notified them.
	Handlers []*Task
	// Templates and Files read the role's templates/ and files/ folders.
	Templates FileSource
	Files     FileSource
	// TaskFiles reads the role's tasks/ folder (import_tasks, include_tasks).
	TaskFiles FileSource
}

// Folder returns the source of the role's folder f (files/ or
// templates/); nil when the role has no such folder.
func (r *Role) Folder(f modspec.Folder) FileSource {
	switch f {
	case modspec.Files:
		return r.Files
	case modspec.Templates:
		return r.Templates
	}
	return nil
}

// FileSource reads files relative to one folder of a role.
type FileSource interface {
	// ReadFile returns the file's content and the name to show in errors.
	ReadFile(name string) (content []byte, display string, err error)
}

// Task is one step of a role, as written in role.yml.
type Task struct {
	Name string
	// Module is the module's name ("template", "package", ...) and Args its
	// arguments, not yet rendered: string values are templates.
	Module string
	Args   map[string]any
	// When is a template expression ("eq .mysql_role \"primary\"") that must
	// render to true or false; empty means always.
	When string
	// Loop, when set, runs the task once per item with .item set. One of
	// LoopItems (a YAML list, each item rendered), LoopVar (the name of a
	// list variable) or LoopExpr (a template that is one action giving a
	// list, such as "{{ hosts \"web\" }}"; render it with
	// templates.RenderValue, which keeps the list's type) is set.
	LoopItems []any
	LoopVar   string
	LoopExpr  string
	Notify    []string
	// NotifyLine is the line of notify: in File, for errors: every name
	// must be a handler or listen topic of a role of the play (CheckNotify).
	NotifyLine int
	Tags       []string
	// Become overrides the connection's become setting when not nil.
	Become *bool
	// Register stores the task's result under this variable name for later
	// tasks of the same host: {changed, rc, stdout, stderr, skipped}.
	Register string
	// ChangedWhen, when not nil, overrides the module's own changed answer.
	ChangedWhen *bool
	// CheckModeRun (check_mode: run) runs a read-only command for real in
	// check mode, as changed_when: false does, and registers its result.
	CheckModeRun bool
	// NoLog hides the task's arguments, diff and output (secret content).
	NoLog bool
	// IgnoreErrors lets the play go on when this task fails; an ignored
	// failure is counted as ignored, not failed, and the run exits 0.
	IgnoreErrors bool
	// FailedWhen, when set, is a template expression over the task's
	// result (.result, and the register name when set) that decides
	// whether the task failed, replacing the module's own verdict.
	FailedWhen string
	// Until, when set, reruns the task until this expression over its
	// result is true: at most Retries more times, Delay seconds apart.
	Until   string
	Retries int
	Delay   int
	// RunOnce runs the task on one host of each batch (the first to reach
	// it); the others register its result and share its outcome.
	RunOnce bool
	// DelegateTo, when set, runs the task on another host: an inventory
	// host's name, or "localhost" for the controller (a template, rendered
	// against the original host's variables). The task's templates still
	// read the original host's variables and facts; its result is
	// registered, and its handlers notified, on the original host.
	DelegateTo string
	// BecomeUser, when set, runs the task's privileged operations as this
	// user instead of root (sudo to root, then runuser); it applies where
	// become does (the task's, a block's or the connection's).
	BecomeUser string
	// Vars are variables set for this task only (values are templates,
	// rendered against the host's variables).
	Vars map[string]any
	// Environment is exported to a command or shell task's process
	// (values are templates); it travels on stdin, never on the command
	// line.
	Environment map[string]any
	// Line is the task's line in Source, for error messages.
	Line int
	// Role is the role the task belongs to.
	Role *Role
	// IsHandler marks tasks declared under handlers:.
	IsHandler bool
	// Listen lists the topics a handler also answers to: notify may name
	// a handler or a topic, which runs every handler listening to it.
	Listen []string
	// Block, Rescue and Always are set on a block (Module is then ""):
	// its tasks run in order; when one fails, the rescue tasks run and the
	// failure is rescued; the always tasks run in every case. The block's
	// own keys (when, become, tags, vars, no_log) are already applied to
	// every task inside it at load time.
	Block, Rescue, Always []*Task
	// Include is set on an include_tasks (Module is then ""): the tasks of
	// IncludeFile, run when the include is reached, once per loop item
	// (with .item), with the include's vars. Its when, loop, vars and tags
	// are the include's own; they are not copied onto the tasks.
	Include     []*Task
	IncludeFile string
	// IncludeRole is the role an include_role or import_role names (the
	// task is then an include or a block of its tasks): its defaults and
	// handlers join the play's, its dependencies run before the role that
	// includes it.
	IncludeRole *Role
	// File is the file the task is written in (role.yml, or a file of
	// tasks/ it imports or includes), for error messages.
	File string
}

// IsBlock tells a block from a task.
func (t *Task) IsBlock() bool { return t.Block != nil }

// IsInclude tells an include_tasks from a task.
func (t *Task) IsInclude() bool { return t.Include != nil }

// Flatten lists the tasks of a task list in order, blocks replaced by the
// tasks of their block, rescue and always sections: every task that may run.
func Flatten(tasks []*Task) []*Task {
	var out []*Task
	for _, t := range tasks {
		if !t.IsBlock() && !t.IsInclude() {
			out = append(out, t)
			continue
		}
		out = append(out, Flatten(t.Include)...)
		out = append(out, Flatten(t.Block)...)
		out = append(out, Flatten(t.Rescue)...)
		out = append(out, Flatten(t.Always)...)
	}
	return out
}
