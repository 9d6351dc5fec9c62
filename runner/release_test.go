package runner_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func releaseTarGz(t *testing.T, body string) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "app", Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write([]byte(body))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A release role through the engine: get_url (the host fetches from a
// loopback server), unarchive of the download (remote_src) and of an
// archive of the role's files/, in one run whose check mode reports what
// the real run does; the second run changes nothing. Check mode cannot
// know what the download holds, so the unpack of it is unknown on the
// first run, and exact once it is there.
func TestReleaseRoleThroughEngine(t *testing.T) {
	archive := releaseTarGz(t, "#!/bin/sh\necho app 1.0\n")
	sum := sha256.Sum256(archive)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(archive) }))
	defer srv.Close()
	l := newLab(t, 2, "rel")
	l.writeRoleFiles("rel", map[string]string{
		"files/assets.tgz": string(releaseTarGz(t, "assets\n")),
		"role.yml": `tasks:
  - name: folders
    file: {path: "{{ .root }}/{{ .item }}", state: directory}
    loop: [archives, releases, assets]
  - name: fetched
    get_url: {url: "` + srv.URL + `/app.tgz", dest: "{{ .root }}/archives/app.tgz", checksum: "sha256:` + hex.EncodeToString(sum[:]) + `"}
  - name: unpacked
    unarchive: {src: "{{ .root }}/archives/app.tgz", remote_src: true, dest: "{{ .root }}/releases"}
  - name: assets
    unarchive: {src: assets.tgz, dest: "{{ .root }}/assets"}
`,
	})
	check, crc, err := l.deploy(runOpts{check: true})
	if err != nil {
		t.Fatal(err)
	}
	wantCheck := []string{"folders[archives]=changed", "folders[releases]=changed", "folders[assets]=changed", "fetched[]=changed", "unpacked[]=unknown", "assets[]=changed"}
	wantCheck = append(wantCheck, wantCheck...) // two hosts
	slices.Sort(wantCheck)
	got := check.statuses()
	slices.Sort(got)
	if !slices.Equal(got, wantCheck) || crc.Unknown != 2 {
		t.Fatalf("first check: %v (unknown %d), want %v", got, crc.Unknown, wantCheck)
	}
	real, rrc := mustDeploy(t, l, runOpts{})
	if rrc.Failed > 0 || rrc.Changed != 12 {
		t.Fatalf("real run: %v", real.statuses())
	}
	for _, h := range []string{"h01", "h02"} {
		if got := readFile(t, filepath.Join(l.roots[h], "releases/app")); got != "#!/bin/sh\necho app 1.0\n" {
			t.Errorf("%s: app %q", h, got)
		}
		if got := readFile(t, filepath.Join(l.roots[h], "assets/app")); got != "assets\n" {
			t.Errorf("%s: assets %q", h, got)
		}
	}
	check, crc, err = l.deploy(runOpts{check: true})
	if err != nil || crc.Changed != 0 || crc.Unknown != 0 {
		t.Fatalf("check after the run: %v %v", check.statuses(), err)
	}
	if _, rc := mustDeploy(t, l, runOpts{}); rc.Changed != 0 {
		t.Errorf("second run changed %d", rc.Changed)
	}
}

// An archive src missing from the role's files/ is bad input naming
// role.yml and line; remote_src makes src a path on the host instead.
func TestUnarchiveSourceCheckedAtLoad(t *testing.T) {
	l := roleLab(t, 1, "bad", `tasks:
  - name: ok, on the host
    unarchive: {src: /srv/app.tgz, remote_src: true, dest: /srv}
  - name: missing
    unarchive: {src: app.tgz, dest: /srv}
`)
	_, _, err := l.deploy(runOpts{check: true})
	if err == nil || !strings.Contains(err.Error(), "role.yml:5: src:") || !strings.Contains(err.Error(), "app.tgz not found") {
		t.Fatalf("error %v, want role.yml:5 naming the missing src", err)
	}
}

// A malformed argument of a new module is bad input naming role.yml and
// line, found before anything changes on any host.
func TestNewModuleArgumentsCheckedBeforeRun(t *testing.T) {
	l := roleLab(t, 1, "badarg", `tasks:
  - name: first
    file: {path: "{{ .root }}/made", state: directory}
  - name: fetched
    get_url: {url: "http://127.0.0.1:1/x", dest: "{{ .root }}/x", checksum: "md5:abc"}
`)
	_, _, err := l.deploy(runOpts{})
	if err == nil || !strings.Contains(err.Error(), "role.yml:4") || !strings.Contains(err.Error(), "want sha256:") {
		t.Fatalf("error %v, want role.yml:4 naming the checksum", err)
	}
	if _, statErr := os.Stat(filepath.Join(l.roots["h01"], "made")); !os.IsNotExist(statErr) {
		t.Error("the task before the bad one ran")
	}
}
