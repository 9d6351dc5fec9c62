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
