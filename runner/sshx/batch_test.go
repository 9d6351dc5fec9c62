package sshx_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// TestReadBatchAnswersAsSingleCalls: a batch of stats, reads and commands
// gives, in one round trip, what each single call gives: binary content,
// trailing newlines, stderr and exit status included; a file over the
// batch's limit is left to the single call.
func TestReadBatchAnswersAsSingleCalls(t *testing.T) {
	f := newFixture(t)
	c := dial(t, f.config())
	ctx := context.Background()
	dir := f.srv.Dir
	bin := []byte("a\x00b\xff\n\n")
	files := map[string][]byte{"bin": bin, "text": []byte("line 'quoted' $HOME ~1\n"), "big": make([]byte, 1<<20+1)}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("text", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	reads := []executor.Read{
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "bin")},
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "link")},
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "missing")},
		{Kind: executor.ReadContent, Path: filepath.Join(dir, "bin")},
		{Kind: executor.ReadContent, Path: filepath.Join(dir, "text")},
		{Kind: executor.ReadContent, Path: filepath.Join(dir, "missing")},
		{Kind: executor.ReadContent, Path: filepath.Join(dir, "big")},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "echo out; echo err >&2; exit 3"}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "printf 'no newline ~7'"}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "echo x", Env: map[string]string{"A": "b"}}},
	}
	got, err := c.ReadBatch(ctx, reads)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reads {
		a := got[i]
		switch r.Kind {
		case executor.ReadStat:
			want, err := c.Stat(ctx, r.Path, false)
			if err != nil || a.Err != nil || !reflect.DeepEqual(a.Info, want) {
				t.Errorf("stat %s: batch %+v %v, single %+v %v", r.Path, a.Info, a.Err, want, err)
			}
		case executor.ReadContent:
			want, err := c.ReadFile(ctx, r.Path, false)
			switch {
			case filepath.Base(r.Path) == "big":
				if !a.Skipped {
					t.Errorf("a file over the limit was carried")
				}
			case errors.Is(err, fs.ErrNotExist):
				if !errors.Is(a.Err, fs.ErrNotExist) {
					t.Errorf("read %s: batch error %v, want not exist", r.Path, a.Err)
				}
			case err != nil || a.Err != nil || string(a.Content) != string(want):
				t.Errorf("read %s: batch %q %v, single %q %v", r.Path, a.Content, a.Err, want, err)
			}
		case executor.ReadRun:
			if len(r.Cmd.Env) > 0 {
				if !a.Skipped {
					t.Error("a command with environment was batched")
				}
				continue
			}
			want := run(t, c, r.Cmd)
			if !bytes.Equal(a.Result.Stdout, want.Stdout) || !bytes.Equal(a.Result.Stderr, want.Stderr) || a.Result.ExitCode != want.ExitCode {
				t.Errorf("run %q: batch %+v, single %+v", r.Cmd.Script, a.Result, want)
			}
		}
	}
}
