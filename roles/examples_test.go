package roles

import "testing"

// The example roles load with the built-in ones and their notify names a
// handler of the play they make (vhosts notifies the nginx role's).
func TestExampleRolesLoad(t *testing.T) {
	l := &Loader{Paths: []string{"../examples/roles"}, Builtin: true}
	for _, name := range []string{"vhosts"} {
		r, err := l.Load(name)
		if err == nil {
			err = CheckNotify(playOf(r))
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
