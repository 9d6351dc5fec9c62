package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// TestCopyOntoSymlinkToDirectoryRefused: check mode already says that a
// destination that is a symlink to a directory cannot be written.
func TestCopyOntoSymlinkToDirectoryRefused(t *testing.T) {
	tg, _, _ := sshTarget(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "app.conf")
	symlink(t, "data", link)
	_, err := newModule(t, "copy", map[string]any{"dest": link, "content": "x\n"}).Plan(t.Context(), tg)
	if err == nil || !strings.Contains(err.Error(), "symlink to a directory") {
		t.Errorf("plan: err %v", err)
	}
}

// TestFileAbsentTrailingSlashOnLink: `path: .../link/` with state absent
// removes the link, never the contents of the directory it points to.
func TestFileAbsentTrailingSlashOnLink(t *testing.T) {
	tg, rec, _ := sshTarget(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(data, "keep"), []byte("precious"), 0o644)
	link := filepath.Join(dir, "link")
	symlink(t, data, link)
	c := converge(t, tg, rec, "file", map[string]any{"path": link + "/", "state": "absent"})
	if strings.Contains(strings.Join(c.Summary, " "), "<nil>") {
		t.Errorf("summary %v", c.Summary)
	}
	if b, err := os.ReadFile(filepath.Join(data, "keep")); err != nil || string(b) != "precious" {
		t.Errorf("the directory behind the link lost its content: %q %v", b, err)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("the link is still there: %v", err)
	}
}

// confBehindLink writes dir/real.conf with content and perm (set past the
// umask) and makes dir/app.conf a link to it that reads linkTo.
func confBehindLink(t *testing.T, dir, content string, perm os.FileMode, linkTo string) (target, link string) {
	t.Helper()
	target, link = filepath.Join(dir, "real.conf"), filepath.Join(dir, "app.conf")
	writeFile(t, target, []byte(content), perm)
	if err := os.Chmod(target, perm); err != nil {
		t.Fatal(err)
	}
	symlink(t, linkTo, link)
	return target, link
}

// TestLineEditsThroughLink: a line task on a link edits the file the link
// leads to, keeping its mode, and leaves the link; it used to put a
// regular file of the link's mode (0777) in the link's place.
func TestLineEditsThroughLink(t *testing.T) {
	tg, _, _ := sshTarget(t)
	dir := t.TempDir()
	target, link := confBehindLink(t, dir, "one\n", 0o640, "real.conf")
	m := newModule(t, "line", map[string]any{"path": link, "line": "two"})
	c, err := m.Plan(t.Context(), tg)
	if err != nil || !c.Changed || c.Summary[0] != "edit "+link {
		t.Fatalf("plan: %+v %v", c, err)
	}
	if _, err := m.Apply(t.Context(), tg, c); err != nil {
		t.Fatalf("apply: %v", err)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link is gone: %v %v", fi.Mode(), err)
	}
	got, _ := os.ReadFile(target)
	fi, _ = os.Stat(target)
	if string(got) != "one\ntwo\n" || fi.Mode().Perm() != 0o640 {
		t.Errorf("target = %q mode %o, want the line added and mode 0640", got, fi.Mode().Perm())
	}
	// A dangling link into a missing folder is an error, not a new file.
	gone := filepath.Join(dir, "gone.conf")
	symlink(t, "missing/x.conf", gone)
	_, err = newModule(t, "line", map[string]any{"path": gone, "line": "two", "create": true}).Plan(t.Context(), tg)
	if err == nil || !strings.Contains(err.Error(), "does not resolve") {
		t.Errorf("dangling link: %v", err)
	}
}

// TestLineThroughLinkReadsPrediction: in check mode, a line task on a link
// the host has reads the file behind it as an earlier task predicts it.
func TestLineThroughLinkReadsPrediction(t *testing.T) {
	tg, _, _ := sshTarget(t)
	dir := t.TempDir()
	target, link := confBehindLink(t, dir, "one\nk=2\n", 0o644, filepath.Join(dir, "real.conf"))
	st := predicting(tg)
	st.Set(target, hoststate.Entry{Kind: hoststate.File, Content: []byte("one\n"), Mode: 0o644, HasMode: true})
	c, err := newModule(t, "line", map[string]any{"path": link, "regexp": "^k=", "state": "absent"}).Plan(t.Context(), tg)
	if err != nil || c.Changed {
		t.Errorf("line through a link to a predicted file: %+v %v, want no change", c, err)
	}
	c, err = newModule(t, "line", map[string]any{"path": link, "line": "k=3", "regexp": "^k="}).Plan(t.Context(), tg)
	if err != nil || !c.Changed || !strings.Contains(c.Diff, "+k=3") || strings.Contains(c.Diff, "-k=2") {
		t.Errorf("edit through a link to a predicted file: %+v %v", c, err)
	}
}

// TestLineLinkLoopIsAnError: a link that leads back through itself
// (d -> b, b -> d/e) is an error that names it. coreutils' readlink -f
// never returns on that loop; the read script used to call it and hang
// until the run was killed (found by the check-mode property test).
func TestLineLinkLoopIsAnError(t *testing.T) {
	tg, _, _ := sshTarget(t)
	dir := t.TempDir()
	d, b := filepath.Join(dir, "d"), filepath.Join(dir, "b")
	symlink(t, filepath.Join(d, "e"), b)
	symlink(t, b, d)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err := newModule(t, "line", map[string]any{"path": d, "line": "x", "create": true}).Plan(ctx, tg)
	if err == nil || !strings.Contains(err.Error(), "does not resolve") {
		t.Errorf("plan through a link loop: %v", err)
	}
}

// TestFileLinkOverFileItsSourceLeadsTo: `a` becomes a link to d/f while
// d/f is a link to a. ln -sf in place refused ("are the same file") where
// check mode planned the change (found by the check-mode property test,
// seed 6783); the link is now made beside the path and renamed over it.
func TestFileLinkOverFileItsSourceLeadsTo(t *testing.T) {
	tg, rec, _ := sshTarget(t)
	dir := t.TempDir()
	a, f := filepath.Join(dir, "a"), filepath.Join(dir, "f")
	writeFile(t, a, []byte("no newline"), 0o644)
	symlink(t, a, f)
	converge(t, tg, rec, "file", map[string]any{"path": a, "state": "link", "src": f})
	if to, err := os.Readlink(a); err != nil || to != f {
		t.Errorf("a leads to %q (%v), want %s", to, err, f)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".ferry-ln.*")); len(left) != 0 {
		t.Errorf("temporary links left: %v", left)
	}
}
