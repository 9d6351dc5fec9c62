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

func TestReadFrom(t *testing.T) {
	a := WriteTree(t, map[string]string{"x.txt": "from a\n"})
	b := WriteTree(t, map[string]string{"x.txt": "from b\n", "y.txt": "only b\n"})
	read := ReadFrom(a, b)
	if got := read(t, "x.txt"); got != "from a\n" {
		t.Errorf("x.txt: %q, want the first folder's", got)
	}
	if got := read(t, "y.txt"); got != "only b\n" {
		t.Errorf("y.txt: %q, want the folder that has it", got)
	}
}
