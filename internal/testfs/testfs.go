// Package testfs writes the trees of files tests load: inventories with
// their group_vars/ and secrets, roles, ferry.yaml.
package testfs

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteTree writes files (a slash path under the folder -> its content) in
// a new temporary folder and returns the folder. Files are readable by their
// owner only, as a secrets file must be.
func WriteTree(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// ReadFrom returns a reader of files that may be in any of dirs: it reads
// a name from the first of dirs that has it. Recorded outputs live beside
// the reader or the role they belong to, and a test of the whole reads both.
func ReadFrom(dirs ...string) func(tb testing.TB, name string) string {
	return func(tb testing.TB, name string) string {
		tb.Helper()
		for _, dir := range dirs {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				return string(b)
			}
		}
		tb.Fatalf("no file %s in %v", name, dirs)
		return ""
	}
}
