package roles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// playOf lists what a group naming only r runs: its dependencies, depth
// first, then r.
func playOf(r *Role) []*Role {
	var out []*Role
	var add func(*Role)
	add = func(r *Role) {
		for _, d := range r.Dependencies {
			add(d)
		}
		for _, have := range out {
			if have == r {
				return
			}
		}
		out = append(out, r)
	}
	add(r)
	return out
}

// checkAlone checks a loaded role's notify as a play of that role alone.
func checkAlone(r *Role, err error) error {
	if err != nil {
		return err
	}
	return CheckNotify(playOf(r))
}

// notify reaches the handlers of every role of the play, not only of the
// role and its dependencies: a role alone loads, and the play decides.
func TestNotifyAcrossRolesOfThePlay(t *testing.T) {
	rs, dir, err := loadRolesRaw(t, map[string]string{
		"a": "tasks:\n  - name: t\n    testmod_package: {names: x}\n    notify: [reload b, b topic]\n",
		"b": "handlers:\n  - {name: reload b, testmod_package: {names: x}}\n  - {name: other, testmod_package: {names: x}, listen: b topic}\n",
		"c": "tasks:\n  - name: t\n    testmod_package: {names: x}\n",
	}, "a", "b", "c")
	if err != nil {
		t.Fatalf("a role whose notify names another role's handler must load alone: %v", err)
	}
	a, b, c := rs[0], rs[1], rs[2]
	if err := CheckNotify([]*Role{b, a}); err != nil {
		t.Errorf("play b, a: %v", err)
	}
	if err := CheckNotify([]*Role{a, b}); err != nil {
		t.Errorf("play a, b (the handler's role after): %v", err)
	}
	err = CheckNotify([]*Role{c, a})
	want := dir + `/a/role.yml:4: notify: no handler named "reload b" (no role of the play has handlers: c, a)`
	if err == nil || err.Error() != want {
		t.Errorf("play c, a:\n got: %v\nwant: %s", err, want)
	}
	if !strings.Contains(want, "role.yml:4") {
		t.Fatal("unreachable")
	}
}

// loadRolesRaw writes roles and loads several of them, without checking
// notify.
func loadRolesRaw(t *testing.T, files map[string]string, names ...string) ([]*Role, string, error) {
	t.Helper()
	dir := t.TempDir()
	for n, text := range files {
		if err := os.MkdirAll(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n, "role.yml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := &Loader{Paths: []string{dir}}
	var out []*Role
	for _, n := range names {
		r, err := l.Load(n)
		if err != nil {
			return nil, dir, err
		}
		out = append(out, r)
	}
	return out, dir, nil
}
