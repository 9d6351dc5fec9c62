package hoststate_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/local"
)

// A command's creates guard follows links as test -e does: through a link
// an earlier task creates, and through a link the host has, to what the
// prediction says is (or is no longer) there.
func TestExistsFollowsLinks(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	if err := os.WriteFile(a, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(a, b); err != nil { // the host's b -> a
		t.Fatal(err)
	}
	st := hoststate.New()
	o := hoststate.NewOverlay(st, local.New(local.Options{}))
	ctx := context.Background()
	exists := func(p string) (bool, bool) {
		t.Helper()
		e, ok, err := o.Exists(ctx, p, false)
		if err != nil {
			t.Fatalf("exists %s: %v", p, err)
		}
		return e, ok
	}
	if _, ok := exists(b); ok {
		t.Errorf("nothing predicted: the host should answer")
	}
	st.Set(c, hoststate.Entry{Kind: hoststate.Link, LinkTo: "b"}) // c -> b -> a
	if e, ok := exists(c); !ok || !e {
		t.Errorf("predicted link to a host link to a file: exists %v ok %v", e, ok)
	}
	st.Set(a, hoststate.Entry{Kind: hoststate.Absent, Fresh: true})
	for _, p := range []string{b, c} {
		if e, ok := exists(p); !ok || e {
			t.Errorf("%s once a is removed: exists %v ok %v, want a dangling link", p, e, ok)
		}
	}
	st.Set(a, hoststate.Entry{Kind: hoststate.Link, LinkTo: c}) // a loop
	if _, _, err := o.Exists(ctx, c, false); err == nil {
		t.Errorf("a loop of links: no error")
	}
}
