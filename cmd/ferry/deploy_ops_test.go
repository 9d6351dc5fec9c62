package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// opsSite has two hosts running role "steps": three tasks that each write
// a file named after the task, tagged a, b and c.
func opsSite(t *testing.T) (*site, string) {
	t.Helper()
	s := newSite(t, []string{"web-a", "web-b"})
	s.role("steps", `tasks:
  - name: first
    copy: {dest: "{{ .root }}/first", content: "1"}
    tags: [a]
  - name: second
    copy: {dest: "{{ .root }}/second", content: "2"}
    tags: [b]
  - name: third
    copy: {dest: "{{ .root }}/third", content: "3"}
    tags: [c]
`, nil)
	return s, s.inventory("steps", "")
}

func TestDeployListHostsAndTasks(t *testing.T) {
	s, inv := opsSite(t)
	r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--list-hosts", "--limit", "web-b")
	if r.code != 0 || r.stdout != "play site (1 hosts)\n  web-b\n" {
		t.Fatalf("--list-hosts: exit %d:\n%q", r.code, r.stdout)
	}
	r = ferryRun(context.Background(), t, "deploy", "-i", inv, "--list-tasks", "--skip-tags", "b")
	want := "play site (2 hosts)\n  tasks:\n    steps : first  [a]\n    steps : third  [c]\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("--list-tasks: exit %d:\n%s\nwant:\n%s", r.code, r.stdout, want)
	}
	r = ferryRun(context.Background(), t, "deploy", "-i", inv, "--list-tasks", "--start-at-task", "second")
	if !strings.Contains(r.stdout, "steps : second") || strings.Contains(r.stdout, "first") {
		t.Fatalf("--list-tasks --start-at-task: %s", r.stdout)
	}
	for _, n := range s.Names {
		if c := s.Servers[n].Commands(); len(c) > 0 || s.Servers[n].Connections() > 0 {
			t.Errorf("%s was contacted by a listing: %q", n, c)
		}
	}
}

func TestDeployStartAtTask(t *testing.T) {
	s, inv := opsSite(t)
	r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--start-at-task", "steps : second")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, n := range s.Names {
		for file, want := range map[string]bool{"first": false, "second": true, "third": true} {
			_, err := os.Stat(filepath.Join(s.root(n), file))
			if (err == nil) != want {
				t.Errorf("%s: %s exists=%v, want %v", n, file, err == nil, want)
			}
		}
	}
	r = ferryRun(context.Background(), t, "deploy", "-i", inv, "--start-at-task", "nosuch")
	if r.code != exitBadInput || !strings.Contains(r.stderr, `"nosuch"`) {
		t.Fatalf("unknown task: exit %d %s", r.code, r.stderr)
	}
	// A task passed over by --tags cannot be started at.
	r = ferryRun(context.Background(), t, "deploy", "-i", inv, "--start-at-task", "second", "--tags", "a")
	if r.code != exitBadInput {
		t.Fatalf("start at a task --tags excludes: exit %d", r.code)
	}
}

// --start-at-task is a point in the deploy, not in each host: plays before
// it run nothing, later plays run whole, even on hosts that never ran the
// task itself.
func TestDeployStartAtTaskAcrossPlays(t *testing.T) {
	s, _ := opsSite(t)
	s.role("later", "tasks:\n  - name: fourth\n    copy: {dest: \"{{ .root }}/fourth\", content: \"4\"}\n", nil)
	s.role("earlier", "tasks:\n  - name: zeroth\n    copy: {dest: \"{{ .root }}/zeroth\", content: \"0\"}\n", nil)
	host := func(n string) string {
		return fmt.Sprintf("      %s: {address: %s, port: %d, vars: {root: %q, ferry_state_dir: %q}}\n", n, s.Servers[n].Host, s.Servers[n].Port, s.root(n), s.root(n)+"/.ferry")
	}
	inv := s.write("inventory.yml", s.connection()+"order: [zero, one, two]\ngroups:\n"+
		"  zero:\n    roles: [earlier]\n    hosts:\n"+host("web-b")+
		"  one:\n    roles: [steps]\n    hosts:\n"+host("web-a")+
		"  two:\n    roles: [later]\n    hosts:\n"+host("web-b"), 0o644)
	r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--start-at-task", "second")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := map[string]map[string]bool{
		"web-a": {"first": false, "second": true, "third": true},
		"web-b": {"zeroth": false, "fourth": true},
	}
	for n, files := range want {
		for file, exists := range files {
			_, err := os.Stat(filepath.Join(s.root(n), file))
			if (err == nil) != exists {
				t.Errorf("%s: %s exists=%v, want %v", n, file, err == nil, exists)
			}
		}
	}
}
