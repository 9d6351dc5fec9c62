package testfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteTree(t *testing.T) {
	dir := WriteTree(t, map[string]string{"inv.yml": "hosts: {}\n", "group_vars/web/main.yml": "a: 1\n"})
	for name, want := range map[string]string{"inv.yml": "hosts: {}\n", "group_vars/web/main.yml": "a: 1\n"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "inv.yml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("inv.yml: mode %v, %v; want 0600", fi.Mode(), err)
	}
}
