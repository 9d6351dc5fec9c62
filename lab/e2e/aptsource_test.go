//go:build e2e

package e2e

// Issue 14, role 2: a package from a third-party apt repository
// (examples/roles/apt_source). The test builds a tiny package with
// dpkg-deb, a repository signed with a fresh gpg key (apt-ftparchive and
// gpg, Debian's), serves it from the controller on the lab bridge, and
// gives the role the key; the role adds the source with apt_repository and
// installs the package. Proven from outside the hosts: the package's
// program runs and apt trusts the source with that key only; a second run
// changes nothing and check mode then reports nothing.
//
// Helpers from main_test.go, faults_test.go and release_test.go: runFerry,
// runOnHost, mustOnHost, hostAddress, repoRoot, exampleRoles,
// labGroupInventory, cleanupOnHosts, faultSite, newSite, serveOnBridge.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// run runs a program of the controller in dir and fails the test when
// it fails.
func runIn(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// signedRepo builds a repository (dists/stable/main, amd64) holding one
// package, ferry-hello 1.0, signed by a new key; it returns the folder
// and the armored public key.
func signedRepo(t *testing.T) (string, string) {
	t.Helper()
	for _, tool := range []string{"dpkg-deb", "apt-ftparchive", "gpg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: make lab-prereqs installs it (apt-utils, gpg)", tool)
		}
	}
	work := t.TempDir()
	pkg := filepath.Join(work, "pkg")
	for name, text := range map[string]string{
		"DEBIAN/control":      "Package: ferry-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: ferry e2e <e2e@ferry.test>\nDescription: ferry's e2e test package\n",
		"usr/bin/ferry-hello": "#!/bin/sh\necho 'hello from a third-party repository'\n",
	} {
		p := filepath.Join(pkg, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(pkg, "DEBIAN/control"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(work, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "pool/main"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "dists/stable/main/binary-amd64"), 0o755); err != nil {
		t.Fatal(err)
	}
	runIn(t, work, nil, "dpkg-deb", "--root-owner-group", "--build", pkg, filepath.Join(repo, "pool/main/ferry-hello_1.0_all.deb"))
	packages := runIn(t, repo, nil, "apt-ftparchive", "packages", "pool")
	if err := os.WriteFile(filepath.Join(repo, "dists/stable/main/binary-amd64/Packages"), []byte(packages), 0o644); err != nil {
		t.Fatal(err)
	}
	release := runIn(t, repo, nil, "apt-ftparchive",
		"-o", "APT::FTPArchive::Release::Suite=stable", "-o", "APT::FTPArchive::Release::Codename=stable",
		"-o", "APT::FTPArchive::Release::Architectures=amd64", "-o", "APT::FTPArchive::Release::Components=main",
		"release", "dists/stable")
	if err := os.WriteFile(filepath.Join(repo, "dists/stable/Release"), []byte(release), 0o644); err != nil {
		t.Fatal(err)
	}
	home, key := newKey(t, work, "gnupg")
	runIn(t, work, []string{"GNUPGHOME=" + home}, "gpg", "--batch", "--yes", "--clearsign", "-o", filepath.Join(repo, "dists/stable/InRelease"), filepath.Join(repo, "dists/stable/Release"))
	return repo, key
}

// newKey makes a signing key in a gpg home of its own under work and
// returns the home and the armored public key.
func newKey(t *testing.T, work, name string) (string, string) {
	t.Helper()
	home := filepath.Join(work, name)
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"GNUPGHOME=" + home}
	// This home's agent only, stopped at the end.
	t.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run() })
	runIn(t, work, env, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "ferry e2e repository <e2e@ferry.test>", "ed25519", "sign", "never")
	return home, runIn(t, work, env, "gpg", "--armor", "--export", "e2e@ferry.test")
}

// copyRole copies a role of examples/roles into dir/roles/NAME.
func copyRole(t *testing.T, name, dir string) string {
	t.Helper()
	src := filepath.Join(exampleRoles, name)
	dst := filepath.Join(dir, "roles", name)
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestAptSourceRole(t *testing.T) {
	hosts := []string{"db-01", "db-02"}
	repo, key := signedRepo(t)
	base := serveOnBridge(t, repo)

	vars := fmt.Sprintf("vars:\n  apt_source_name: ferry-e2e\n  apt_source_uri: %s\n  apt_source_key: ferry-e2e.asc\n  apt_source_packages: [ferry-hello]\n", base)
	s := newSite(t, labGroupInventory(t, vars, "db", "apt_source", hosts))
	role := copyRole(t, "apt_source", s.dir)
	if err := os.WriteFile(filepath.Join(role, "files", "ferry-e2e.asc"), []byte(key), 0o644); err != nil {
		t.Fatal(err)
	}
	cleanupOnHosts(t, hosts, "apt-get remove -y -q ferry-hello; rm -f /etc/apt/sources.list.d/ferry-e2e.sources /etc/apt/keyrings/ferry-e2e.asc /var/lib/apt/lists/198.18.0.1_*")

	first := s.deploy(t)
	if first.res.Code != 0 {
		t.Fatalf("first deploy exited %d\n%s", first.res.Code, first.text())
	}
	for _, h := range hosts {
		if out := mustOnHost(t, h, "ferry-hello"); out != "hello from a third-party repository" {
			t.Errorf("%s: ferry-hello printed %q", h, out)
		}
		// apt knows the package from this source, verified with its key.
		policy := mustOnHost(t, h, "apt-cache policy ferry-hello")
		if !strings.Contains(policy, base+" stable/main") {
			t.Errorf("%s: apt-cache policy does not name the source:\n%s", h, policy)
		}
		if out := mustOnHost(t, h, "grep -c . /etc/apt/keyrings/ferry-e2e.asc >/dev/null && grep Signed-By /etc/apt/sources.list.d/ferry-e2e.sources"); out != "Signed-By: /etc/apt/keyrings/ferry-e2e.asc" {
			t.Errorf("%s: sources file: %q", h, out)
		}
	}
	second := s.deploy(t)
	if second.res.Code != 0 || second.recap["changed"] != float64(0) {
		t.Errorf("second run: exit %d, changed %v\n%s", second.res.Code, second.recap["changed"], second.text())
	}
	check := s.deploy(t, "--check", "--detailed-exitcode")
	if check.res.Code != 0 || check.recap["changed"] != float64(0) || (check.recap["unknown"] != nil && check.recap["unknown"] != float64(0)) {
		t.Errorf("check after the runs: exit %d, changed %v, unknown %v\n%s", check.res.Code, check.recap["changed"], check.recap["unknown"], check.text())
	}
}
