package modules

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// serveFiles serves name -> content on loopback and counts the requests.
func serveFiles(t *testing.T, files map[string]string) (*httptest.Server, *int) {
	t.Helper()
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// get_url over SSH: fetched by the target, checked, renamed into place,
// not fetched again once the checksum matches; a wrong checksum leaves the
// old file; the URL's password never reaches a script or command line.
func TestGetURLOverSSH(t *testing.T) {
	const body = "release 1\n"
	srv, hits := serveFiles(t, map[string]string{"/app.tgz": body, "/other": "other\n"})
	tg, rec, ssh := sshTarget(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.tgz")
	url := strings.Replace(srv.URL, "http://", "http://deploy:"+canary+"@", 1) + "/app.tgz"
	args := map[string]any{"url": url, "dest": dest, "checksum": "sha256:" + sha256Hex([]byte(body)), "mode": "0640"}
	c := converge(t, tg, rec, "get_url", args)
	if want := "download http://deploy:xxxxx@"; !strings.HasPrefix(c.Summary[0], want) {
		t.Errorf("summary %q, want it to start with %q", c.Summary[0], want)
	}
	if b, _ := os.ReadFile(dest); string(b) != body {
		t.Errorf("dest holds %q", b)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
	if *hits != 1 {
		t.Errorf("%d requests, want 1 (a matching file is not fetched again)", *hits)
	}
	for _, s := range append(rec.scripts, ssh.Commands()...) {
		if strings.Contains(s, canary) {
			t.Fatalf("the URL's password is in a script or command line: %q", s)
		}
	}

	// A wrong checksum fails after the download and leaves the old file.
	bad := map[string]any{"url": srv.URL + "/other", "dest": dest, "checksum": "sha256:" + sha256Hex([]byte("not it"))}
	m := newModule(t, "get_url", bad)
	ch, err := m.Plan(context.Background(), tg)
	if err != nil || !ch.Changed {
		t.Fatalf("plan of a file whose checksum differs: %+v %v", ch, err)
	}
	_, err = m.Apply(context.Background(), tg, ch)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("apply of a wrong checksum: %v", err)
	}
	if b, _ := os.ReadFile(dest); string(b) != body {
		t.Errorf("after a failed download dest holds %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".ferry-*")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}

	// Without a checksum an existing file is left alone.
	if c, err := newModule(t, "get_url", map[string]any{"url": srv.URL + "/other", "dest": dest, "mode": "0640"}).Plan(context.Background(), tg); err != nil || c.Changed {
		t.Errorf("existing file without checksum: %+v %v", c, err)
	}
	// A missing file on the server fails and writes nothing.
	missing := filepath.Join(dir, "missing")
	m = newModule(t, "get_url", map[string]any{"url": srv.URL + "/nope", "dest": missing})
	ch, _ = m.Plan(context.Background(), tg)
	if _, err := m.Apply(context.Background(), tg, ch); err == nil {
		t.Error("a 404 did not fail")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed download left %s", missing)
	}
}

// In check mode a download is planned against the predicted host (a
// folder an earlier task creates) and makes dest unknown for later tasks;
// a matching file plans nothing.
func TestGetURLCheckMode(t *testing.T) {
	srv, hits := serveFiles(t, map[string]string{"/f": "x\n"})
	tg, _ := localTarget(t)
	st := predicting(tg)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "new")
	dest := filepath.Join(dir, "f")
	args := map[string]any{"url": srv.URL + "/f", "dest": dest}
	planIntoPredictedFolder(t, tg, st, "get_url", args, dir, false, "does not exist")
	var unknown *hoststate.UnknownError
	if _, err := tg.State.Stat(ctx, dest, false); !errors.As(err, &unknown) {
		t.Errorf("after a predicted download, dest is %v, want unknown", err)
	}
	if *hits != 0 {
		t.Errorf("check mode fetched %d times", *hits)
	}
	// A file that is there with the right checksum: nothing to do.
	real := filepath.Join(t.TempDir(), "f")
	writeFile(t, real, []byte("x\n"), 0o644)
	c, err := newModule(t, "get_url", map[string]any{"url": srv.URL + "/f", "dest": real, "checksum": "sha256:" + sha256Hex([]byte("x\n"))}).Plan(ctx, tg)
	if err != nil || c.Changed {
		t.Errorf("matching file in check mode: %+v %v", c, err)
	}
}

func TestGetURLArgs(t *testing.T) {
	spec, _ := Lookup("get_url")
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"url": "file:///etc/passwd", "dest": "/x"}, "want an http, https or ftp URL"},
		{map[string]any{"url": "http://h/a b", "dest": "/x"}, "percent-encoded"},
		{map[string]any{"url": "http://h/a", "dest": "x"}, "not an absolute path"},
		{map[string]any{"url": "http://h/a", "dest": "/x", "checksum": "md5:abc"}, "want sha256:"},
		{map[string]any{"url": "http://h/a", "dest": "/x", "mode": 644}, "quoted octal"},
		{map[string]any{"url": "http://h/a", "dest": "/x", "force": true}, "unknown argument"},
	} {
		_, err := spec.New(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
