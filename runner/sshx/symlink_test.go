package sshx_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// TestUploadOntoSymlinkToDirectory: a destination that is a symlink to a
// directory is refused; mv must not move the temp file into the directory,
// and no temp file is left anywhere. A symlink to a file is replaced.
func TestUploadOntoSymlinkToDirectory(t *testing.T) {
	f, c := connected(t)
	data := filepath.Join(f.srv.Dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(f.srv.Dir, "site.conf")
	if err := os.Symlink("data", link); err != nil {
		t.Fatal(err)
	}
	err := c.Upload(context.Background(), link, []byte("secret content\n"), executor.UploadOptions{Mode: 0o600})
	if err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("upload onto a symlink to a directory: err %v", err)
	}
	entries, _ := os.ReadDir(data)
	if len(entries) != 0 {
		t.Errorf("the directory behind the link got %v", entries)
	}
	if tmp := tempFiles(t, f.srv.Dir); len(tmp) != 0 {
		t.Errorf("temp files left: %q", tmp)
	}
	if target, _ := os.Readlink(link); target != "data" {
		t.Errorf("the link now points to %q", target)
	}

	// A symlink to a file is replaced by the file, the old target kept.
	writeFile(t, filepath.Join(f.srv.Dir, "old.conf"), "old\n", 0o644)
	flink := filepath.Join(f.srv.Dir, "f.conf")
	if err := os.Symlink("old.conf", flink); err != nil {
		t.Fatal(err)
	}
	if err := c.Upload(context.Background(), flink, []byte("new\n"), executor.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(flink); err != nil || !fi.Mode().IsRegular() || readFile(t, flink) != "new\n" || readFile(t, filepath.Join(f.srv.Dir, "old.conf")) != "old\n" {
		t.Errorf("symlink to a file: %v %v", fi, err)
	}
}
