package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/sshtest"
)

// fakeAptGet logs its arguments (the lab's e2e test runs the real one).
const fakeAptGet = "#!/bin/sh\necho \"$*\" >> \"$STATE/log\"\n"

const testKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ...\n-----END PGP PUBLIC KEY BLOCK-----\n"

func aptRepoTarget(t *testing.T) (*Target, *recorder, string) {
	t.Helper()
	bin, state := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(bin, "apt-get"), []byte(fakeAptGet), 0o755)
	oldList, oldKey := aptListDir, aptKeyDir
	aptListDir, aptKeyDir = t.TempDir(), t.TempDir()
	t.Cleanup(func() { aptListDir, aptKeyDir = oldList, oldKey })
	tg, rec, _ := sshTarget(t, sshtest.WithPath(bin), sshtest.WithEnv("STATE="+state))
	return tg, rec, state
}

// The key and the deb822 file are written, this source's cache refreshed
// once; unchanged, nothing runs; a changed URI refreshes it again; absent
// removes both files without an update.
func TestAptRepositoryConverges(t *testing.T) {
	tg, rec, state := aptRepoTarget(t)
	args := map[string]any{"name": "ferry-test", "uris": "http://198.18.0.1:8080/repo", "suites": []any{"stable"},
		"components": []any{"main"}, "key": testKey}
	c := convergeIn(t, tg, rec, "apt_repository", args, 2)
	list, key := filepath.Join(aptListDir, "ferry-test.sources"), filepath.Join(aptKeyDir, "ferry-test.asc")
	if last := c.Summary[len(c.Summary)-1]; last != "apt-get update (ferry-test only)" {
		t.Errorf("summary %q", c.Summary)
	}
	want := "# managed by ferry: apt_repository ferry-test\nTypes: deb\nURIs: http://198.18.0.1:8080/repo\nSuites: stable\nComponents: main\nSigned-By: " + key + "\n"
	if b, _ := os.ReadFile(list); string(b) != want {
		t.Errorf("sources file:\n%s\nwant:\n%s", b, want)
	}
	if b, _ := os.ReadFile(key); string(b) != testKey {
		t.Errorf("key file %q", b)
	}
	if strings.Contains(c.Diff, "PGP") || !strings.Contains(c.Diff, "+URIs: http://198.18.0.1:8080/repo") {
		t.Errorf("diff shows the key or not the source:\n%s", c.Diff)
	}
	log, _ := os.ReadFile(filepath.Join(state, "log"))
	if got := strings.TrimSpace(string(log)); got != "update -q --error-on=any -o Dir::Etc::SourceList="+list+" -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0" {
		t.Errorf("apt-get calls: %q", got)
	}
	args["uris"] = "http://198.18.0.1:8081/repo"
	c = convergeIn(t, tg, rec, "apt_repository", args, 2)
	if strings.Join(c.Summary, "|") != "update "+list+"|apt-get update (ferry-test only)" {
		t.Errorf("changed uri: %q", c.Summary)
	}
	if log, _ := os.ReadFile(filepath.Join(state, "log")); strings.Count(string(log), "update") != 2 {
		t.Errorf("apt-get calls after a change: %q", log)
	}
	convergeIn(t, tg, rec, "apt_repository", map[string]any{"name": "ferry-test", "state": "absent"}, 3)
	for _, p := range []string{list, key} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after absent", p)
		}
	}
	if log, _ := os.ReadFile(filepath.Join(state, "log")); strings.Count(string(log), "update") != 2 {
		t.Errorf("absent ran apt-get: %q", log)
	}
}

// In check mode the files are predicted, and a package task after it
// plans an install from the new source without a second apt-get update,
// as the real run does.
func TestAptRepositoryCheckMode(t *testing.T) {
	tg, _, state := aptRepoTarget(t)
	tg.Facts["pkg_mgr"] = "apt"
	st := predicting(tg)
	ctx := context.Background()
	args := map[string]any{"name": "ferry-test", "uris": "http://198.18.0.1:8080/repo", "suites": []any{"./"}, "key": "binary key"}
	c, err := newModule(t, "apt_repository", args).Plan(ctx, tg)
	if err != nil || !c.Changed {
		t.Fatalf("check plan: %+v %v", c, err)
	}
	if !strings.HasSuffix(c.Summary[0], "ferry-test.gpg (0644)") {
		t.Errorf("a binary key is not a .gpg file: %q", c.Summary)
	}
	c.Predict(st)
	if again, err := newModule(t, "apt_repository", args).Plan(ctx, tg); err != nil || again.Changed {
		t.Errorf("planned against its own prediction: %+v %v", again, err)
	}
	pc, err := newModule(t, "package", map[string]any{"names": []any{"ferry-no-such-package"}}).Plan(ctx, tg)
	if err != nil || strings.Join(pc.Summary, "|") != "install ferry-no-such-package" {
		t.Errorf("package after the source: %+v %v", pc, err)
	}
	if _, err := os.Stat(filepath.Join(state, "log")); !os.IsNotExist(err) {
		t.Error("check mode ran apt-get")
	}
}

func TestAptRepositoryArgs(t *testing.T) {
	spec, _ := Lookup("apt_repository")
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "x y", "uris": "http://h/", "suites": "s", "components": "main"}, "use letters"},
		{map[string]any{"name": "x", "suites": "s", "components": "main"}, "argument uris: required"},
		{map[string]any{"name": "x", "uris": "not a url", "suites": "s", "components": "main"}, "one word each"},
		{map[string]any{"name": "x", "uris": "h/repo", "suites": "s", "components": "main"}, "is not a URL"},
		{map[string]any{"name": "x", "uris": "http://h/", "suites": "s"}, "argument components: required"},
		{map[string]any{"name": "x", "uris": "http://h/", "suites": "./", "components": "main"}, "argument components"},
		{map[string]any{"name": "x", "uris": "http://h/", "suites": "s", "components": "main", "state": "gone"}, "not one of"},
		{map[string]any{"name": "x", "signed_by": "key.asc"}, "unknown argument"},
	} {
		_, err := spec.New(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
