package sshx_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

func TestStat(t *testing.T) {
	f, c := connected(t)
	dir := f.srv.Dir
	file := filepath.Join(dir, "conf")
	writeFile(t, file, "hello\n", 0o640)
	if err := syscall.Chmod(file, 0o4640); err != nil { // setuid survives the round trip
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o750); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("conf", link); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("hello\n"))

	tests := []struct {
		path string
		want executor.FileInfo
	}{
		{file, executor.FileInfo{Exists: true, Mode: 0o640 | fs.ModeSetuid, Size: 6, SHA256: hex.EncodeToString(sum[:])}},
		{sub, executor.FileInfo{Exists: true, IsDir: true, Mode: 0o750}},
		{link, executor.FileInfo{Exists: true, IsLink: true, LinkTo: "conf", Mode: 0o777, Size: 4}},
		{filepath.Join(dir, "absent"), executor.FileInfo{}},
	}
	for _, tt := range tests {
		got, err := c.Stat(context.Background(), tt.path, false)
		if err != nil {
			t.Fatalf("Stat(%s): %v", tt.path, err)
		}
		if got.Exists && (got.Owner == "" || got.Group == "" || got.OwnerID != strconv.Itoa(os.Getuid()) || got.GroupID != strconv.Itoa(os.Getgid())) {
			t.Errorf("Stat(%s): no owner/group or wrong ids: %+v", tt.path, got)
		}
		got.Owner, got.Group, got.OwnerID, got.GroupID = "", "", "", ""
		if tt.want.IsDir {
			got.Size = 0 // directory sizes depend on the filesystem
		}
		if got != tt.want {
			t.Errorf("Stat(%s)\n got %+v\nwant %+v", tt.path, got, tt.want)
		}
	}
	if _, err := c.Stat(context.Background(), "relative", false); err == nil {
		t.Error("Stat accepted a relative path")
	}
}

func TestReadFile(t *testing.T) {
	f, _ := sudoFixture(t, "pw", true)
	c := dial(t, f.config())
	path := filepath.Join(f.srv.Dir, "data")
	writeFile(t, path, "line 1\nline 2\n", 0o600)
	for _, become := range []bool{false, true} {
		got, err := c.ReadFile(context.Background(), path, become)
		if err != nil || string(got) != "line 1\nline 2\n" {
			t.Errorf("ReadFile(become=%v) = %q, %v", become, got, err)
		}
		_, err = c.ReadFile(context.Background(), path+".missing", become)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(missing, become=%v) = %v, want fs.ErrNotExist", become, err)
		}
	}
}

func TestRemove(t *testing.T) {
	f, c := connected(t)
	file := filepath.Join(f.srv.Dir, "f")
	writeFile(t, file, "x", 0o644)
	empty := filepath.Join(f.srv.Dir, "empty")
	full := filepath.Join(f.srv.Dir, "full")
	for _, d := range []string{empty, full} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(full, "keep"), "x", 0o644)

	for _, p := range []string{file, empty, filepath.Join(f.srv.Dir, "never-there")} {
		if err := c.Remove(context.Background(), p, false); err != nil {
			t.Errorf("Remove(%s): %v", p, err)
		}
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there", p)
		}
	}
	if err := c.Remove(context.Background(), full, false); err == nil {
		t.Error("Remove of a non-empty directory succeeded")
	}
	if !exists(filepath.Join(full, "keep")) {
		t.Error("Remove emptied a directory")
	}
}
