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
