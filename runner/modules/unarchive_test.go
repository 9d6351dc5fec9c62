package modules

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ulikunitz/xz"
)

// testEntry is one entry of a test archive; link set makes a symlink, a
// name ending in / a folder.
type testEntry struct {
	name, body, link string
	mode             int64
}

var releaseEntries = []testEntry{
	{name: "app-1.0/", mode: 0o755},
	{name: "app-1.0/bin/app", body: "#!/bin/sh\necho app 1.0\n", mode: 0o755},
	{name: "app-1.0/share/readme", body: "hello\n", mode: 0o644},
	{name: "app-1.0/current", link: "bin/app"},
}

func makeTar(t *testing.T, format string, entries []testEntry) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		switch {
		case e.link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.link, 0o777
		case strings.HasSuffix(e.name, "/"):
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	switch format {
	case "tar.gz":
		zw := gzip.NewWriter(&out)
		_, _ = zw.Write(raw.Bytes())
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	case "tar.xz":
		xw, err := xz.NewWriter(&out)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = xw.Write(raw.Bytes())
		if err := xw.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		return raw.Bytes()
	}
	return out.Bytes()
}

func makeZip(t *testing.T, entries []testEntry) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		body := e.body
		switch {
		case e.link != "":
			h.SetMode(fs.ModeSymlink | 0o777)
			body = e.link
		case strings.HasSuffix(e.name, "/"):
			h.SetMode(fs.ModeDir | fs.FileMode(e.mode))
		default:
			h.SetMode(fs.FileMode(e.mode))
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// checkRelease asserts dest holds releaseEntries as extracted.
func checkRelease(t *testing.T, dest string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dest, "app-1.0/bin/app"))
	if err != nil || string(b) != releaseEntries[1].body {
		t.Fatalf("bin/app: %q %v", b, err)
	}
	if fi, _ := os.Stat(filepath.Join(dest, "app-1.0/bin/app")); fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/app mode %v", fi.Mode())
	}
	if l, err := os.Readlink(filepath.Join(dest, "app-1.0/current")); l != "bin/app" {
		t.Errorf("link %q %v", l, err)
	}
}

// Each format converges: unpacked, then a no-op in one round trip; a
// changed file is unpacked again; the uploaded archive is removed.
func TestUnarchiveFormats(t *testing.T) {
	for _, format := range []string{"tar.gz", "tar.xz", "tar", "zip"} {
		t.Run(format, func(t *testing.T) {
			tg, rec := localTarget(t)
			archive := makeZip(t, releaseEntries)
			if format != "zip" {
				archive = makeTar(t, format, releaseEntries)
			}
			dest := t.TempDir()
			args := map[string]any{"content": string(archive), "dest": dest, "owner": "nobody", "group": "nogroup"}
			c := converge(t, tg, rec, "unarchive", args)
			if !strings.Contains(c.Summary[0], "6 of 6 entries differ (app-1.0, app-1.0/bin, app-1.0/bin/app, app-1.0/current, app-1.0/share, ...)") {
				t.Errorf("summary %v", c.Summary)
			}
			checkRelease(t, dest)
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".ferry-unarchive-*")); len(left) > 0 {
				t.Errorf("uploaded archive left: %v", left)
			}
			// Someone edits a file: it is unpacked again, and only it differs.
			writeFile(t, filepath.Join(dest, "app-1.0/share/readme"), []byte("edited\n"), 0o644)
			c, err := newModule(t, "unarchive", args).Plan(context.Background(), tg)
			if err != nil || !c.Changed || !strings.Contains(c.Summary[0], "1 of 6 entries differ (app-1.0/share/readme)") {
				t.Fatalf("after an edit: %+v %v", c, err)
			}
			converge(t, tg, rec, "unarchive", args)
		})
	}
}

// remote_src unpacks an archive already on the target; creates makes a
// plan of one Stat that reads nothing else.
func TestUnarchiveRemoteSrcAndCreates(t *testing.T) {
	tg, rec, _ := sshTarget(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "app.tgz")
	writeFile(t, src, makeTar(t, "tar.gz", releaseEntries), 0o644)
	dest := filepath.Join(dir, "releases")
	if err := os.Mkdir(dest, 0o700); err != nil {
		t.Fatal(err)
	}
	args := map[string]any{"src": src, "remote_src": true, "dest": dest, "mode": "0755"}
	ctx := context.Background()
	m := newModule(t, "unarchive", args)
	c, err := m.Plan(ctx, tg)
	if err != nil || !c.Changed || len(c.Summary) != 2 || !strings.HasPrefix(c.Summary[1], "chmod 0755 "+dest) {
		t.Fatalf("plan: %+v %v", c, err)
	}
	if _, err := m.Apply(ctx, tg, c); err != nil {
		t.Fatal(err)
	}
	checkRelease(t, dest)
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o755 {
		t.Errorf("dest mode %v", fi.Mode())
	}
	rec.reset()
	if c, err := newModule(t, "unarchive", args).Plan(ctx, tg); err != nil || c.Changed {
		t.Fatalf("second plan: %+v %v", c, err)
	}
	if n := rec.reset(); n != 2 {
		t.Errorf("no-op plan with remote_src cost %d round trips, want 2 (read the archive, read dest)", n)
	}
	args["creates"] = filepath.Join(dest, "app-1.0/bin/app")
	if c, err := newModule(t, "unarchive", args).Plan(ctx, tg); err != nil || c.Changed || c.Summary[0] != "skip: "+args["creates"].(string)+" exists" {
		t.Fatalf("plan with creates: %+v %v", c, err)
	}
	if n := rec.reset(); n != 1 {
		t.Errorf("plan with an existing creates cost %d round trips, want 1", n)
	}
}

// In check mode the plan reads a folder an earlier task creates from the
// prediction, and its own prediction is what the real run leaves: planned
// again against it, nothing is left to do.
func TestUnarchiveCheckMode(t *testing.T) {
	tg, _ := localTarget(t)
	st := predicting(tg)
	ctx := context.Background()
	dest := filepath.Join(t.TempDir(), "releases")
	args := map[string]any{"content": string(makeTar(t, "tar.gz", releaseEntries)), "dest": dest}
	planIntoPredictedFolder(t, tg, st, "unarchive", args, dest, true, "not an existing folder")
	if again, err := newModule(t, "unarchive", args).Plan(ctx, tg); err != nil || again.Changed {
		t.Fatalf("planned against its own prediction: %+v %v", again, err)
	}
	fi, err := tg.State.Stat(ctx, filepath.Join(dest, "app-1.0/bin/app"), true)
	if err != nil || fi.SHA256 != sha256Hex([]byte(releaseEntries[1].body)) || fi.Mode.Perm() != 0o755 {
		t.Errorf("predicted bin/app: %+v %v", fi, err)
	}
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("check mode created %s", dest)
	}
	// An archive on the target that an earlier task downloads is unknown.
	st.MarkUnknown("/srv/app.tgz", "get_url downloads it only in the real run")
	_, err = newModule(t, "unarchive", map[string]any{"src": "/srv/app.tgz", "remote_src": true, "dest": dest}).Plan(ctx, tg)
	var unknown *hoststate.UnknownError
	if !errors.As(err, &unknown) {
		t.Errorf("plan of a predicted-unknown archive: %v, want unknown", err)
	}
}

func TestUnarchiveRefusesBadArchives(t *testing.T) {
	spec, _ := Lookup("unarchive")
	for _, tc := range []struct {
		entries []testEntry
		want    string
	}{
		{[]testEntry{{name: "../evil", body: "x", mode: 0o644}}, "leaves the destination"},
		{[]testEntry{{name: "a/../../evil", body: "x", mode: 0o644}}, "leaves the destination"},
		{[]testEntry{{name: "l", link: "/etc/passwd"}}, "a link out of the destination"},
		{[]testEntry{{name: "f", body: "x", mode: 0o644}, {name: "f/g", body: "y", mode: 0o644}}, "not a folder"},
	} {
		_, err := spec.New(map[string]any{"content": string(makeTar(t, "tar.gz", tc.entries)), "dest": "/srv"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.entries, err, tc.want)
		}
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"content": "plain text", "dest": "/srv"}, "not a tar.gz, tar.xz, tar or zip archive"},
		{map[string]any{"src": "rel.tgz", "remote_src": true, "dest": "/srv"}, "not an absolute path on the target"},
		{map[string]any{"content": string(makeZip(t, releaseEntries)), "dest": "srv"}, "argument dest"},
		{map[string]any{"dest": "/srv"}, "argument src: required"},
	} {
		_, err := spec.New(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args["dest"], err, tc.want)
		}
	}
}
