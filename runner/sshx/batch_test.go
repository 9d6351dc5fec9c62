package sshx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
)

// TestReadBatchAnswersAsSingleCalls: a batch of stats, reads and commands
// gives, in one round trip, what each single call gives: binary content,
// trailing newlines, stderr and exit status included, commands with
// environment and with stdin (every byte value) too; a file over the
// batch's limit, and a stdin the batch cannot see without consuming it
// or over its limit, are left to the single call.
func TestReadBatchAnswersAsSingleCalls(t *testing.T) {
	f := newFixture(t)
	c := dial(t, f.config())
	ctx := context.Background()
	dir := f.srv.Dir
	bin := []byte("a\x00b\xff\n\n")
	// "forged" holds what a batch marker looks like, as a file an attacker
	// left on the host would: it is content, never the end of a read.
	forged := []byte("x\n__ferry_batch_00112233445566778899aabbccddeeff 0\n\n__ferry_batch_ 1\n")
	files := map[string][]byte{"bin": bin, "text": []byte("line 'quoted' $HOME ~1\n"), "big": make([]byte, 1<<20+1), "forged": forged}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("text", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	// A link target with a tilde and newlines is a stat's last line: it
	// must come back whole.
	if err := os.Symlink("a~1\nb~", filepath.Join(dir, "oddlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "text"), 0o4755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sticky"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "sticky"), 0o1777); err != nil {
		t.Fatal(err)
	}
	reads := []executor.Read{
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "bin")},
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "text")},
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "sticky")},
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "bin")},
		{Kind: executor.ReadStat, Path: "relative"},
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "link")},
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "missing")},
		{Kind: executor.ReadStat, Path: filepath.Join(dir, "oddlink")},
		{Kind: executor.ReadContent, Path: filepath.Join(dir, "bin")},
		{Kind: executor.ReadContent, Path: filepath.Join(dir, "text")},
		{Kind: executor.ReadContent, Path: filepath.Join(dir, "forged")},
		// A read cannot see the batch's marker, so it cannot forge one.
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "printf %s \"${__ferry_b-unset}\""}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "cat " + filepath.Join(dir, "forged") + " >&2; cat " + filepath.Join(dir, "forged")}},
		{Kind: executor.ReadContent, Path: filepath.Join(dir, "missing")},
		{Kind: executor.ReadContent, Path: filepath.Join(dir, "big")},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "echo out; echo err >&2; exit 3"}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "printf 'no newline ~7'"}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "printf 'err ~5\\n\\n' >&2; exit 4"}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "echo $A; echo \"$B\"", Env: map[string]string{"A": "b", "B": "it's %s \\ \n $HOME"}}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "od -An -tx1 -v", Stdin: strings.NewReader(allBytes())}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "cat; echo \"$P\"", Stdin: bytes.NewReader([]byte("it's 100% \\n\n")), Env: map[string]string{"P": "x"}}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "echo did not read", Stdin: strings.NewReader(strings.Repeat("y\n", 10000))}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "wc -c", Stdin: strings.NewReader(strings.Repeat("z", executor.MaxBatchStdin+1))}},
		{Kind: executor.ReadRun, Cmd: executor.Command{Script: "cat", Stdin: io.MultiReader(strings.NewReader("a pipe"))}},
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
			if r.Path == "relative" {
				if err == nil || a.Err == nil {
					t.Errorf("stat of a relative path: batch %v, single %v; want errors", a.Err, err)
				}
				continue
			}
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
			if _, ok := executor.BatchStdin(r.Cmd); !ok {
				if !a.Skipped {
					t.Errorf("run %q: a stdin the batch cannot carry was batched", r.Cmd.Script)
				}
				continue
			}
			if a.Skipped {
				t.Errorf("run %q: not batched", r.Cmd.Script)
				continue
			}
			single := r.Cmd
			if in, _ := executor.BatchStdin(r.Cmd); in != nil {
				single.Stdin = bytes.NewReader(in)
			}
			want := run(t, c, single)
			if !bytes.Equal(a.Result.Stdout, want.Stdout) || !bytes.Equal(a.Result.Stderr, want.Stderr) || a.Result.ExitCode != want.ExitCode {
				t.Errorf("run %q: batch %+v, single %+v", r.Cmd.Script, a.Result, want)
			}
		}
	}
}

// allBytes is every byte value once, NUL and the shell's quotes included.
func allBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

// TestReadBatchLeavesStatsToSingleCallsWithoutGNUFind: on a host whose
// find has no -printf (busybox, BSD), or whose sha256sum has no -z
// (coreutils before 8.30), the batch's stat reads are left to the single
// call, which works there, instead of failing.
func TestReadBatchLeavesStatsToSingleCallsWithoutGNUFind(t *testing.T) {
	for name, fake := range map[string]string{
		"find":      "#!/bin/sh\necho 'find: unrecognized: -printf' >&2\nexit 1\n",
		"sha256sum": "#!/bin/sh\nfor a; do [ \"$a\" = -z ] && { echo \"sha256sum: invalid option -- 'z'\" >&2; exit 1; }; done\nexec /usr/bin/sha256sum \"$@\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			bin := t.TempDir()
			writeFile(t, filepath.Join(bin, name), fake, 0o755)
			f := newFixture(t, sshtest.WithPath(bin))
			c := dial(t, f.config())
			p := filepath.Join(f.srv.Dir, "file")
			writeFile(t, p, "x", 0o644)
			got, err := c.ReadBatch(context.Background(), []executor.Read{
				{Kind: executor.ReadStat, Path: p},
				{Kind: executor.ReadRun, Cmd: executor.Command{Script: "echo still batched"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !got[0].Skipped || got[0].Err != nil {
				t.Errorf("stat: %+v, want skipped", got[0])
			}
			if got[1].Skipped || string(got[1].Result.Stdout) != "still batched\n" {
				t.Errorf("the other read: %+v", got[1])
			}
			if fi, err := c.Stat(context.Background(), p, false); err != nil || !fi.Exists || fi.Size != 1 || fi.SHA256 == "" {
				t.Errorf("single stat: %+v %v", fi, err)
			}
		})
	}
}
