package runner

import "github.com/ferry-deploy/ferry/roles"

// Watcher is implemented by a Reporter that also shows live progress (the
// status area on a terminal): besides the events, it hears when a host
// starts a step and when it is through with a play. Events stay as they
// are, so the JSON stream does not change.
type Watcher interface {
	// HostStep tells that host started step (connecting, a task); an
	// empty step means the host waits (connected, its play not begun).
	HostStep(host, step string)
	// HostFinished tells that host is through with play (or skipped it).
	HostFinished(play, host string)
}

func (e *Engine) watchStep(host, step string) {
	if w, ok := e.opts.Report.(Watcher); ok {
		w.HostStep(host, step)
	}
}

func (e *Engine) watchTask(hr *hostRun, t *roles.Task) {
	if _, ok := e.opts.Report.(Watcher); ok {
		e.watchStep(hr.host.Name, t.Role.Name+" : "+t.Name)
	}
}

func (e *Engine) watchFinished(play, host string) {
	if w, ok := e.opts.Report.(Watcher); ok {
		w.HostFinished(play, host)
	}
}

// startReached reports whether host hr has reached Options.StartAt (always
// true without it): tasks before the first task of that name are passed
// over, on every host, across plays, as Ansible's --start-at-task does.
func (e *Engine) startReached(hr *hostRun, t *roles.Task) bool {
	if e.opts.StartAt == "" || hr.startReached {
		return true
	}
	if TaskNamed(t, e.opts.StartAt) {
		hr.startReached = true
	}
	return hr.startReached
}

// TaskNamed reports whether name names t: its own name, or "role : name"
// as listings and events show it.
func TaskNamed(t *roles.Task, name string) bool {
	return t.Name == name || (t.Role != nil && t.Role.Name+" : "+t.Name == name)
}

// SelectedByTags reports whether a task with taskTags runs under --tags
// and --skip-tags, as the engine decides it (for listings).
func SelectedByTags(taskTags, tags, skipTags []string) bool {
	e := &Engine{opts: Options{Tags: tags, SkipTags: skipTags}}
	return e.selectedByTags(taskTags)
}
