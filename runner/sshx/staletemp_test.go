package sshx_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// TestUploadRemovesStaleTemps: a temp file an earlier upload left (ferry
// killed mid-transfer) is removed by the next upload of the same file; a
// temp file that some process still writes is left alone.
func TestUploadRemovesStaleTemps(t *testing.T) {
	f, c := connected(t)
	target := filepath.Join(f.srv.Dir, "big.bin")
	stale := filepath.Join(f.srv.Dir, ".big.bin.ferry-tmp-0123456789ab")
	writeFile(t, stale, "half of a big file", 0o600)
	active := filepath.Join(f.srv.Dir, ".big.bin.ferry-tmp-ba9876543210")
	writeFile(t, active, "being written", 0o600)
	held, err := os.OpenFile(active, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	other := filepath.Join(f.srv.Dir, ".other.ferry-tmp-0123456789ab")
	writeFile(t, other, "another file's temp", 0o600)

	if err := c.Upload(context.Background(), target, []byte("new\n"), executor.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temp file is still there (%v)", err)
	}
	if _, err := os.Stat(active); err != nil {
		t.Errorf("a temp file in use was removed: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temp was removed: %v", err)
	}
}
