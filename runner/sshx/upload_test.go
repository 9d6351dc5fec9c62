package sshx_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

func TestUploadReplacesAtomically(t *testing.T) {
	f, c := connected(t)
	target := filepath.Join(f.srv.Dir, "site.conf")
	writeFile(t, target, "old\n", 0o600)

	err := c.Upload(context.Background(), target, []byte("new\n"), executor.UploadOptions{Mode: 0o640, Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, target); got != "new\n" {
		t.Errorf("target = %q", got)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	backups, _ := filepath.Glob(target + ".ferry-backup-*")
	if len(backups) != 1 || readFile(t, backups[0]) != "old\n" {
		t.Errorf("backups %q", backups)
	}
	if tmp := tempFiles(t, f.srv.Dir); len(tmp) != 0 {
		t.Errorf("temp files left: %q", tmp)
	}
	// A new file gets the default mode.
	fresh := filepath.Join(f.srv.Dir, "fresh")
	if err := c.Upload(context.Background(), fresh, []byte("x"), executor.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o644 {
		t.Errorf("default mode %v, want 0644", fi.Mode().Perm())
	}
}

func TestUploadValidation(t *testing.T) {
	f, c := connected(t)
	target := filepath.Join(f.srv.Dir, "haproxy.cfg")
	writeFile(t, target, "good config\n", 0o644)
	// The validator sees the candidate, not the target.
	validate := `grep -q good %s || { echo "line 1: bad directive" >&2; exit 1; }`

	err := c.Upload(context.Background(), target, []byte("bad config\n"), executor.UploadOptions{Validate: validate})
	var ve *executor.ValidationError
	if !errors.As(err, &ve) || ve.Output != "line 1: bad directive" || ve.Command != validate {
		t.Fatalf("want ValidationError with the validator's output, got %#v", err)
	}
	if got := readFile(t, target); got != "good config\n" {
		t.Errorf("target touched: %q", got)
	}
	if tmp := tempFiles(t, f.srv.Dir); len(tmp) != 0 {
		t.Errorf("temp files left: %q", tmp)
	}

	if err := c.Upload(context.Background(), target, []byte("good new\n"), executor.UploadOptions{Validate: validate}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, target); got != "good new\n" {
		t.Errorf("target = %q", got)
	}
}

func TestUploadCutMidTransferLeavesTargetAndNoTemp(t *testing.T) {
	f := newFixture(t, sshtest.WithDropAfterUploadBytes(256<<10))
	c := dial(t, f.config())
	target := filepath.Join(f.srv.Dir, "big")
	writeFile(t, target, "old\n", 0o644)

	content := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	err := c.Upload(context.Background(), target, content, executor.UploadOptions{})
	wantUnreachable(t, err, sshx.ReasonConnectionLost)
	if got := readFile(t, target); got != "old\n" {
		t.Errorf("target changed: %d bytes", len(got))
	}
	if tmp := tempFiles(t, f.srv.Dir); len(tmp) != 0 {
		t.Errorf("temp files left: %q", tmp)
	}
	if f.srv.Connections() != 2 {
		t.Errorf("%d connections, want 2 (the cleanup reconnects)", f.srv.Connections())
	}
}

func TestUploadCancelled(t *testing.T) {
	f, c := connected(t)
	target := filepath.Join(f.srv.Dir, "t")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Upload(ctx, target, []byte("x"), executor.UploadOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if exists(target) || len(tempFiles(t, f.srv.Dir)) != 0 {
		t.Error("cancelled upload left files")
	}
}

func TestUploadWithBecomeStagesPrivately(t *testing.T) {
	f, dir := sudoFixture(t, "pw", false)
	cfg := f.config()
	cfg.SudoPassword = "pw"
	c := dial(t, cfg)
	target := filepath.Join(f.srv.Dir, "secret.conf")
	before, _ := filepath.Glob("/tmp/ferry-*")
	const content = "api_key = hunter2\n"
	err := c.Upload(context.Background(), target, []byte(content), executor.UploadOptions{Mode: 0o600, Become: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, target); got != content {
		t.Errorf("target = %q", got)
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "log")), "password ok") {
		t.Error("the move was not done through sudo")
	}
	for _, line := range f.srv.Commands() {
		if strings.Contains(line, "hunter2") || strings.Contains(line, "secret.conf") {
			t.Errorf("command line shows %q", line)
		}
	}
	if tmp := tempFiles(t, f.srv.Dir); len(tmp) != 0 {
		t.Errorf("temp files left: %q", tmp)
	}
	if after, _ := filepath.Glob("/tmp/ferry-*"); len(after) > len(before) {
		t.Errorf("private staging dir left: %q", after)
	}
}

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
