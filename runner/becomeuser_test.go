package runner_test

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// become_user runs a task's commands as that user (through the become
// shell, then runuser) and writes its files owned by that user; check
// mode runs the read-only command as the user too.
func TestBecomeUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runuser needs root: the in-process server runs commands as the test's user")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody on this machine")
	}
	l := roleLab(t, 1, "asuser", `tasks:
  - name: as root
    shell: {cmd: id -un}
    become: true
    changed_when: false
    register: whoroot
  - name: as nobody
    become: true
    become_user: nobody
    block:
      - name: who
        shell: {cmd: id -un}
        changed_when: false
        register: who
      - name: file of nobody
        copy: {content: "{{ .who.stdout }}", dest: "{{ .root }}/who"}
  - name: root's answer
    copy: {content: "{{ .whoroot.stdout }}", dest: "{{ .root }}/root"}
`)
	check, rc, err := l.deploy(runOpts{check: true, diff: true})
	if err != nil || rc.Unknown != 0 {
		t.Fatalf("check: %v %v", err, check.byHost())
	}
	if got, want := check.changed(), []string{"h01 asuser:file of nobody[]", "h01 asuser:root's answer[]"}; !slices.Equal(got, want) {
		t.Errorf("check changed %v, want %v", got, want)
	}
	for _, ev := range check.events {
		if ev.Task == "file of nobody" && ev.Diff == "" {
			t.Errorf("check: no diff for the file")
		} else if ev.Task == "file of nobody" && !strings.Contains(ev.Diff, "+nobody") {
			t.Errorf("check: diff %q does not show what id -un printed as nobody", ev.Diff)
		}
	}
	real, rc, err := l.deploy(runOpts{})
	if err != nil || rc.Failed != 0 {
		t.Fatalf("deploy: %v %v", err, real.byHost())
	}
	root := l.roots["h01"]
	if got := readFile(t, filepath.Join(root, "who")); got != "nobody\n" {
		t.Errorf("who: %q", got)
	}
	if got := readFile(t, filepath.Join(root, "root")); got != "root\n" {
		t.Errorf("become without become_user ran as %q", got)
	}
	fi, err := os.Stat(filepath.Join(root, "who"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fmt.Sprint(st.Uid) != nobody.Uid || fmt.Sprint(st.Gid) != nobody.Gid {
		t.Errorf("owner %d:%d, want nobody's %s:%s", st.Uid, st.Gid, nobody.Uid, nobody.Gid)
	}
	converged(t, l)
}
