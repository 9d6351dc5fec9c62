// Package hoststate is check mode's predicted state of one host: what the
// tasks planned so far in a run would have written. A later task reads the
// host through an Overlay, which answers from the prediction where there is
// one and from the real host everywhere else, so that it plans against the
// state the real run will meet, not the state before the run.
//
// What cannot be predicted is said, never guessed: a path whose state
// depends on something check mode could not see is Unknown, and a read of
// it fails with an *UnknownError naming the reason.
package hoststate

import (
	"io/fs"
	"path"
	"strings"
	"sync"
)

// Kind is what a predicted path is.
type Kind int

// The kinds of predicted path.
const (
	Absent Kind = iota
	File
	Dir
	Link
	// Unknown: a task check mode could not predict may have written here.
	Unknown
)

// Entry is the predicted state of one path.
type Entry struct {
	Kind Kind
	// Content of a File; nil with Backed means the real file's content.
	Content []byte
	// Backed marks an entry that only changed attributes of what the real
	// host has: content (and the existence of a directory) come from it.
	Backed bool
	// Mode is the permission bits; HasMode false means the real host's
	// (Backed) or the writer's default (umask).
	Mode    fs.FileMode
	HasMode bool
	// Owner and Group; "" means the real host's (Backed) or the writer's.
	Owner, Group string
	// Become says who writes a new path without an owner: root through
	// sudo, or the connecting user.
	Become bool
	LinkTo string
	// Fresh marks a path created or removed in this run: nothing below it
	// on the real host is visible any more.
	Fresh bool
	// Because says why an Unknown entry is unknown.
	Because string
	// Shallow marks an Unknown entry whose own existence is unknown (a
	// folder `mkdir -p` may create) while what is below it is not.
	Shallow bool
}

// State is one host's predicted state. It is safe for concurrent use,
// although one host's tasks run in order.
type State struct {
	mu      sync.Mutex
	entries map[string]*Entry
	// changed says why the host may differ from what a command sees
	// (empty while nothing was predicted to change).
	changed string
	facts   map[string]string
	touched map[string]string
}

// Packages is the kind Touch records for package installs and removals,
// which may create files anywhere.
const Packages = "package"

// New returns an empty prediction: the host as it is.
func New() *State { return &State{entries: map[string]*Entry{}} }

// Lookup returns the predicted entry of p; ok is false when nothing is
// predicted for it (read the host). A path below an absent, non-directory
// or fresh ancestor is absent; below an unknown one, unknown; below a link,
// unknown (the real host resolves links, the prediction does not).
func (s *State) Lookup(p string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookup(path.Clean(p))
}

func (s *State) lookup(p string) (Entry, bool) {
	if e, ok := s.entries[p]; ok {
		return *e, true
	}
	for dir := path.Dir(p); ; dir = path.Dir(dir) {
		if e, ok := s.entries[dir]; ok {
			switch {
			case e.Kind == Unknown && e.Shallow:
				// Its own existence is unknown; below it, look further up.
			case e.Kind == Unknown:
				return Entry{Kind: Unknown, Because: e.Because}, true
			case e.Kind == Link:
				return Entry{Kind: Unknown, Because: dir + " would be a link, which check mode does not follow"}, true
			case e.Kind != Dir || e.Fresh:
				return Entry{Kind: Absent}, true
			}
		}
		if dir == "/" || dir == "." {
			return Entry{}, false
		}
	}
}

// Set records the predicted state of p. A fresh entry (a path removed or
// created anew) hides everything predicted below it.
func (s *State) Set(p string, e Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p = path.Clean(p)
	if e.Kind != Dir || e.Fresh {
		s.dropBelow(p)
	}
	s.entries[p] = &e
	s.noteChange("an earlier task writes " + p)
}

// MarkUnknown records that p (and everything below it) may have been
// changed in a way check mode cannot tell.
func (s *State) MarkUnknown(p, because string) {
	s.Set(p, Entry{Kind: Unknown, Because: because})
}

// MarkMaybeFolder records that p may have been created as a folder (a
// `mkdir -p` check mode could not predict): p itself is unknown, what is
// below it is not.
func (s *State) MarkMaybeFolder(p, because string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p = path.Clean(p)
	if e, ok := s.lookup(p); ok && e.Kind == Unknown && !e.Shallow {
		return // unknown with all it holds already
	}
	s.entries[p] = &Entry{Kind: Unknown, Shallow: true, Because: because}
	s.noteChange(because)
}

// MarkChanged records that the host may differ in ways no entry describes
// (a command would run), so that read-only commands, which read the host
// itself, are known to see the state before the run.
func (s *State) MarkChanged(because string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noteChange(because)
}

// Changed says why a command run now would see a host different from the
// one the real run meets; "" when nothing is predicted to change.
func (s *State) Changed() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// noteChange records why the host may differ from what a command sees,
// keeping the first reason (that of the earliest task). s.mu is held.
func (s *State) noteChange(because string) {
	if s.changed == "" {
		s.changed = because
	}
}

func (s *State) dropBelow(p string) {
	prefix := strings.TrimSuffix(p, "/") + "/"
	for k := range s.entries {
		if strings.HasPrefix(k, prefix) {
			delete(s.entries, k)
		}
	}
}

// Ensure records `mkdir -p p`: p and every missing ancestor are
// directories. Ancestors not predicted keep the real host's answer where it
// has one (an existing directory is left as it is).
func (s *State) Ensure(p string, become bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for dir := path.Clean(p); dir != "/" && dir != "."; dir = path.Dir(dir) {
		e, ok := s.lookup(dir)
		if ok && e.Kind == Dir {
			break
		}
		ne := &Entry{Kind: Dir, Become: become}
		if ok && e.Kind == Absent {
			ne.Fresh = true
		} else if !ok {
			// Whether it exists on the host is read when it is looked at.
			ne.Backed = true
		}
		s.entries[dir] = ne
	}
	s.noteChange("an earlier task creates " + p)
}

// Chattr records chmod and chown of an existing path of kind k: the
// predicted entry where there is one, else the host's path with new
// attributes. An unset mode or empty owner or group is left as it is.
func (s *State) Chattr(p string, k Kind, mode fs.FileMode, hasMode bool, owner, group string) {
	s.mu.Lock()
	e, ok := s.lookup(path.Clean(p))
	s.mu.Unlock()
	if !ok || e.Kind != k {
		e = Entry{Kind: k, Backed: true}
	}
	if hasMode {
		e.Mode, e.HasMode = mode, true
	}
	if owner != "" {
		e.Owner = owner
	}
	if group != "" {
		e.Group = group
	}
	// Not Set: chmod and chown leave what is below the path alone.
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[path.Clean(p)] = &e
	s.noteChange("an earlier task changes the attributes of " + p)
}

// SetFact records the predicted value of a state that is not a file: a
// package ("package", "nginx") is "installed" or "absent".
func (s *State) SetFact(kind, key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.facts == nil {
		s.facts = map[string]string{}
	}
	s.facts[kind+"\x00"+key] = value
	s.noteChange("an earlier task changes " + kind + " " + key)
}

// Fact returns a value recorded by SetFact.
func (s *State) Fact(kind, key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.facts[kind+"\x00"+key]
	return v, ok
}

// Touch records that an earlier task changes things of a kind in ways no
// fact names (installing a package may pull in others, create files and
// start services): reads of that kind are unknown from then on, where the
// kind's reader says so.
func (s *State) Touch(kind, because string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.touched == nil {
		s.touched = map[string]string{}
	}
	if _, dup := s.touched[kind]; !dup {
		s.touched[kind] = because
	}
	s.noteChange(because)
}

// Touched says why things of kind may differ from the host ("" if not).
func (s *State) Touched(kind string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.touched[kind]
}

// Below returns a path at or below dir that an earlier task writes ("" if
// none): a unit file written in the run changes what systemd knows.
func (s *State) Below(dir string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir = path.Clean(dir)
	for p := range s.entries {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return p
		}
	}
	return ""
}
