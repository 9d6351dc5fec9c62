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

// startPoint is where Options.StartAt begins: the first task of that name,
// in play order, that the tags select. Plays before its play run nothing,
// its play runs from that task on, later plays run whole, as Ansible's
// --start-at-task does.
type startPoint struct {
	play  int // index in the plays; -1 without StartAt
	task  *roles.Task
	index map[string]int // play group -> index
}

func findStart(plays []Play, name string, selected func(tags []string) bool) startPoint {
	sp := startPoint{play: -1, index: map[string]int{}}
	for i, p := range plays {
		sp.index[p.Group] = i
	}
	if name == "" {
		return sp
	}
	for i, p := range plays {
		for _, r := range p.Roles {
			for _, t := range roles.Flatten(r.Tasks) {
				if TaskNamed(t, name) && selected(t.Tags) {
					sp.play, sp.task = i, t
					return sp
				}
			}
		}
	}
	sp.play = len(plays) // no such task: nothing runs (the CLI refuses this earlier)
	return sp
}

// startReached reports whether task t of play p runs on hr under
// Options.StartAt (always without it).
func (e *Engine) startReached(p Play, hr *hostRun, t *roles.Task) bool {
	if e.opts.StartAt == "" {
		return true
	}
	switch i := e.start.index[p.Group]; {
	case i < e.start.play:
		return false
	case i > e.start.play:
		return true
	}
	if t == e.start.task {
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
