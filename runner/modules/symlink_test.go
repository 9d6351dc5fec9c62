package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	if err := os.Symlink("data", link); err != nil {
		t.Fatal(err)
	}
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
	if err := os.WriteFile(filepath.Join(data, "keep"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
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
