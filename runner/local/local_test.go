package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// executors returns the in-process implementation and the shell fallback
// used under sudo, so that both are held to the same contract.
func executors() map[string]*Executor {
	return map[string]*Executor{
		"go":    New(Options{}),
		"shell": {root: true, shellOps: true},
	}
}

// eachExecutor runs test as a subtest with each of executors().
func eachExecutor(t *testing.T, test func(t *testing.T, e *Executor)) {
	for name, e := range executors() {
		t.Run(name, func(t *testing.T) { test(t, e) })
	}
}

func writeFile(t *testing.T, name string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, data, perm); err != nil {
		t.Fatal(err)
	}
}

func TestRunExitCodeStdinEnv(t *testing.T) {
	e := New(Options{})
	res, err := e.Run(context.Background(), executor.Command{
		Script: `read x; printf '%s-%s' "$x" "$SECRET_VALUE"; echo oops >&2; exit 7`,
		Stdin:  strings.NewReader("hello\n"),
		Env:    map[string]string{"SECRET_VALUE": "s3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Stdout); got != "hello-s3" {
		t.Errorf("stdout = %q", got)
	}
	if got := string(res.Stderr); got != "oops\n" {
		t.Errorf("stderr = %q", got)
	}
	if res.ExitCode != 7 || res.OK() {
		t.Errorf("exit = %d", res.ExitCode)
	}
}

func TestRunCancelledIsError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(Options{}).Run(ctx, executor.Command{Script: "exit 0"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestSudoCommandKeepsSecretsOffArgv(t *testing.T) {
	argv, stdin, err := sudoCommand(executor.Command{
		Script: "cat",
		Env:    map[string]string{"PW": "env-secret"},
		Stdin:  strings.NewReader("payload"),
	}, "sudo-secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range argv {
		if strings.Contains(a, "secret") {
			t.Fatalf("secret on argv: %q", argv)
		}
	}
	in, _ := io.ReadAll(stdin)
	want := "sudo-secret\n" + sudoEnvBegin + "\nPW=env-secret\n" + sudoEnvEnd + "\npayload"
	if string(in) != want {
		t.Fatalf("stdin = %q, want %q", in, want)
	}
	// The wrapper itself must skip an unread password line, export the env
	// and leave the payload for the command: run it without sudo.
	res, err := New(Options{}).Run(context.Background(), executor.Command{
		Script: `set -- ` + shellQuote(`printf '%s|' "$PW"; cat`) + "\n" + sudoWrapper,
		Stdin:  strings.NewReader(want),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Stdout); got != "env-secret|payload" {
		t.Fatalf("wrapper output = %q (stderr %s)", got, res.Stderr)
	}
}

func TestStat(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	writeFile(t, file, []byte("abc"), 0o640)
	if err := os.Symlink("f", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("abc"))
	eachExecutor(t, func(t *testing.T, e *Executor) {
		ctx := context.Background()
		fi, err := e.Stat(ctx, file, true)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Exists || fi.IsDir || fi.Mode != 0o640 || fi.Size != 3 || fi.SHA256 != hex.EncodeToString(sum[:]) || fi.Owner == "" {
			t.Errorf("file: %+v", fi)
		}
		li, err := e.Stat(ctx, filepath.Join(dir, "l"), true)
		if err != nil || !li.IsLink || li.LinkTo != "f" || li.SHA256 != "" {
			t.Errorf("link: %+v %v", li, err)
		}
		di, err := e.Stat(ctx, dir, true)
		if err != nil || !di.IsDir || di.SHA256 != "" {
			t.Errorf("dir: %+v %v", di, err)
		}
		mi, err := e.Stat(ctx, filepath.Join(dir, "missing"), true)
		if err != nil || mi.Exists {
			t.Errorf("missing: %+v %v", mi, err)
		}
		if _, err := e.ReadFile(ctx, filepath.Join(dir, "missing"), true); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile missing: %v", err)
		}
		if b, err := e.ReadFile(ctx, file, true); err != nil || string(b) != "abc" {
			t.Errorf("ReadFile = %q, %v", b, err)
		}
	})
}

func TestUpload(t *testing.T) {
	eachExecutor(t, func(t *testing.T, e *Executor) {
		ctx := context.Background()
		dir := t.TempDir()
		path := filepath.Join(dir, "conf")
		writeFile(t, path, []byte("old\n"), 0o644)
		err := e.Upload(ctx, path, []byte("new\n"), executor.UploadOptions{
			Mode: 0o600, Owner: "root", Group: "root", Validate: "grep -q new %s", Backup: true, Become: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != "new\n" {
			t.Errorf("content = %q", b)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v", fi.Mode())
		}
		backups, _ := filepath.Glob(path + ".ferry-backup-*")
		if len(backups) != 1 {
			t.Fatalf("backups = %v", backups)
		}
		if b, _ := os.ReadFile(backups[0]); string(b) != "old\n" {
			t.Errorf("backup content = %q", b)
		}
		assertOnlyFiles(t, dir, "conf", filepath.Base(backups[0]))
	})
}

func TestUploadValidationFailureLeavesTarget(t *testing.T) {
	eachExecutor(t, func(t *testing.T, e *Executor) {
		dir := t.TempDir()
		path := filepath.Join(dir, "conf")
		writeFile(t, path, []byte("good\n"), 0o644)
		err := e.Upload(context.Background(), path, []byte("bad\n"), executor.UploadOptions{
			Validate: "echo rejected: $(cat %s); exit 1", Become: true,
		})
		var ve *executor.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v, want *ValidationError", err)
		}
		if !strings.Contains(ve.Output, "rejected: bad") {
			t.Errorf("validator output = %q", ve.Output)
		}
		if b, _ := os.ReadFile(path); string(b) != "good\n" {
			t.Errorf("target changed to %q", b)
		}
		assertOnlyFiles(t, dir, "conf")
	})
}

func TestUploadMissingDirFails(t *testing.T) {
	eachExecutor(t, func(t *testing.T, e *Executor) {
		path := filepath.Join(t.TempDir(), "nope", "conf")
		if err := e.Upload(context.Background(), path, []byte("x"), executor.UploadOptions{Become: true}); err == nil {
			t.Fatal("upload into a missing directory succeeded")
		}
	})
}

func TestRemove(t *testing.T) {
	eachExecutor(t, func(t *testing.T, e *Executor) {
		ctx := context.Background()
		dir := t.TempDir()
		f := filepath.Join(dir, "f")
		writeFile(t, f, nil, 0o644)
		if err := e.Remove(ctx, f, true); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("file still there: %v", err)
		}
		if err := e.Remove(ctx, f, true); err != nil {
			t.Errorf("removing a missing path: %v", err)
		}
		sub := filepath.Join(dir, "d", "x")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := e.Remove(ctx, filepath.Dir(sub), true); err == nil {
			t.Error("removed a non-empty directory")
		}
	})
}

func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %v, want %v (temp file left behind?)", got, names)
	}
}
