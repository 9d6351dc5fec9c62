package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConcurrentDeploysNeverInterleave: a deploy that reaches a host while
// another deploy runs there fails at once naming the holder, or with
// --lock-timeout waits for it; the two never interleave.
func TestConcurrentDeploysNeverInterleave(t *testing.T) {
	s := newSite(t, []string{"h01"})
	log := filepath.Join(s.root("h01"), "log")
	s.role("slow", `tasks:
  - name: start
    shell: {cmd: "echo A-start >> {{ .root }}/log; touch {{ .root }}/a-started; sleep 2"}
  - name: end
    shell: {cmd: "echo A-end >> {{ .root }}/log"}
`, nil)
	s.role("quick", `tasks:
  - name: mark
    shell: {cmd: "echo B >> {{ .root }}/log"}
`, nil)
	invA := s.inventory("slow", "")
	invB := s.write("b.yml", s.connection()+"groups:\n  site:\n    roles: [quick]\n    hosts:\n"+s.hostLines("      "), 0o644)
	roles := s.dir + "/roles"

	startA := func() chan result {
		done := make(chan result, 1)
		go func() { done <- ferryRun(context.Background(), t, "deploy", "-i", invA, "--roles-path", roles) }()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(s.root("h01"), "a-started")); err == nil {
				return done
			}
			if time.Now().After(deadline) {
				t.Fatal("deploy A did not start")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	done := startA()
	r := ferryRun(context.Background(), t, "deploy", "-i", invB, "--roles-path", roles)
	if r.code == exitOK || !strings.Contains(r.stdout+r.stderr, "locked by") {
		t.Errorf("a second deploy on a busy host: exit %d, want a failure naming the holder\n%s%s", r.code, r.stdout, r.stderr)
	}
	if a := <-done; a.code != exitOK {
		t.Fatalf("deploy A: exit %d\n%s", a.code, a.stdout)
	}
	if got, _ := os.ReadFile(log); string(got) != "A-start\nA-end\n" {
		t.Errorf("log %q: the refused deploy changed the host", got)
	}

	// With --lock-timeout the second deploy waits, then runs.
	os.Remove(log)
	os.Remove(filepath.Join(s.root("h01"), "a-started"))
	done = startA()
	r = ferryRun(context.Background(), t, "deploy", "-i", invB, "--roles-path", roles, "--lock-timeout", "60s")
	if r.code != exitOK {
		t.Errorf("waiting deploy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	<-done
	if got, _ := os.ReadFile(log); string(got) != "A-start\nA-end\nB\n" {
		t.Errorf("log %q, want A's two steps then B's", got)
	}
}
