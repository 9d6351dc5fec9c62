//go:build e2e

package e2e

// Issue 14, role 1: a service shipped as a release tarball
// (examples/roles/release_service). The test builds a small Go HTTP
// server, packs it as tar.gz releases, and serves them from the
// controller on the lab bridge; the role fetches them with get_url (the
// checksum checked on the host), unpacks them with unarchive, installs a
// systemd_unit and waits for the port. Proven from outside the hosts: the
// release answers, a second run changes nothing and check mode then
// reports nothing, and a bad release (a wrong checksum, a binary that does
// not start) is rolled back with the old one still serving.
//
// Helpers from main_test.go and faults_test.go: runFerry, runOnHost,
// mustOnHost, hostAddress, repoRoot, exampleRoles, labGroupInventory,
// cleanupOnHosts, faultSite, newSite, decodeRun.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/lab"
)

const helloServer = `package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
)

var version = "dev"

func main() {
	listen := flag.String("listen", ":8080", "address to listen on")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello %s\n", version) })
	log.Fatal(http.ListenAndServe(*listen, nil))
}
`

// buildHello compiles the server with its version built in.
func buildHello(t *testing.T, version string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(helloServer), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version="+version, "-o", "hello", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tarGz packs one executable, named hello, at the top of a tar.gz.
func tarGz(t *testing.T, program []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o755, Size: int64(len(program)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(program); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// serveOnBridge serves dir over HTTP on the controller's lab bridge
// address (the lab hosts reach the controller there), for this test only.
func serveOnBridge(t *testing.T, dir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(lab.BridgeAddress.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func sha256Of(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestReleaseServiceRole(t *testing.T) {
	hosts := []string{"web-01", "web-02"}
	files := t.TempDir()
	sums := map[string]string{}
	release := func(version string, program []byte) {
		archive := tarGz(t, program)
		if err := os.WriteFile(filepath.Join(files, "hello-"+version+".tar.gz"), archive, 0o644); err != nil {
			t.Fatal(err)
		}
		sums[version] = sha256Of(archive)
	}
	release("1.0", buildHello(t, "1.0"))
	release("2.0", buildHello(t, "2.0"))
	release("3.0", []byte("#!/bin/sh\necho 'release 3.0 cannot start' >&2\nexit 1\n"))
	base := serveOnBridge(t, files)

	s := newSite(t, labGroupInventory(t, fmt.Sprintf("vars:\n  release_base_url: %s\n", base), "app", "release_service", hosts))
	cleanupOnHosts(t, hosts, "systemctl disable --now hello; rm -f /etc/systemd/system/hello.service; systemctl daemon-reload; rm -rf /opt/hello; userdel -r hello 2>/dev/null; true")
	deploy := func(version, sum string, args ...string) faultRun {
		return s.deploy(t, append([]string{"--roles-path", exampleRoles, "-e", "release_version=" + version, "-e", "release_sha256=" + sum}, args...)...)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	serving := func(want string) {
		t.Helper()
		for _, h := range hosts {
			resp, err := client.Get("http://" + hostAddress(t, h) + ":8181/")
			if err != nil {
				t.Fatalf("%s: %v", h, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "hello "+want+"\n" {
				t.Errorf("%s answers %q, want hello %s", h, body, want)
			}
			if got := mustOnHost(t, h, "readlink /opt/hello/current; systemctl is-enabled hello; stat -c %U /proc/$(systemctl show -p MainPID --value hello)"); got != "/opt/hello/releases/"+want+"\nenabled\nhello" {
				t.Errorf("%s: current, enabled, user: %q", h, got)
			}
		}
	}

	for _, h := range hosts {
		openPort(t, h, 8181) // the stack's firewall, when an earlier test left it on
	}
	first := deploy("1.0", sums["1.0"])
	if first.res.Code != 0 {
		t.Fatalf("first deploy exited %d\n%s", first.res.Code, first.text())
	}
	serving("1.0")
	second := deploy("1.0", sums["1.0"])
	if second.res.Code != 0 || second.recap["changed"] != float64(0) {
		t.Errorf("second run: exit %d, changed %v\n%s", second.res.Code, second.recap["changed"], second.text())
	}
	check := deploy("1.0", sums["1.0"], "--check", "--detailed-exitcode")
	if check.res.Code != 0 || check.recap["changed"] != float64(0) || (check.recap["unknown"] != nil && check.recap["unknown"] != float64(0)) {
		t.Errorf("check after the runs: exit %d, changed %v, unknown %v\n%s", check.res.Code, check.recap["changed"], check.recap["unknown"], check.text())
	}

	// A wrong checksum: nothing of release 2.0 is used, 1.0 still serves.
	bad := deploy("2.0", sums["1.0"])
	if bad.res.Code != 1 || !strings.Contains(bad.text(), "checksum mismatch") || !strings.Contains(bad.text(), "release 2.0 failed and was rolled back to /opt/hello/releases/1.0") {
		t.Errorf("wrong checksum: exit %d\n%s", bad.res.Code, bad.text())
	}
	serving("1.0")
	for _, h := range hosts {
		if out := mustOnHost(t, h, "ls /opt/hello/archives"); out != "hello-1.0.tar.gz" {
			t.Errorf("%s: archives after a wrong checksum: %q", h, out)
		}
	}

	// A binary that does not start: switched to, failed, switched back.
	broken := deploy("3.0", sums["3.0"])
	if broken.res.Code != 1 || !strings.Contains(broken.text(), "release 3.0 failed and was rolled back to /opt/hello/releases/1.0") {
		t.Errorf("broken binary: exit %d\n%s", broken.res.Code, broken.text())
	}
	serving("1.0")

	// A good upgrade restarts into the new release.
	up := deploy("2.0", sums["2.0"])
	if up.res.Code != 0 {
		t.Fatalf("upgrade exited %d\n%s", up.res.Code, up.text())
	}
	serving("2.0")
	if again := deploy("2.0", sums["2.0"], "--check", "--detailed-exitcode"); again.res.Code != 0 || (again.recap["unknown"] != nil && again.recap["unknown"] != float64(0)) {
		t.Errorf("check after the upgrade: exit %d\n%s", again.res.Code, again.text())
	}
}
