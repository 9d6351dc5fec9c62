package lab

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestCloseInheritedOnExec(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "inherited")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Make the descriptor inheritable, as a parent such as flock leaves it.
	fd := int(f.Fd())
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, 0); errno != 0 {
		t.Fatal(errno)
	}
	count := func() string {
		out, err := exec.Command("sh", "-c", "ls -l /proc/$$/fd").Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if !strings.Contains(count(), f.Name()) {
		t.Fatal("the test descriptor is not inherited to begin with")
	}
	closeInheritedOnExec()
	if strings.Contains(count(), f.Name()) {
		t.Error("a child still inherits the descriptor")
	}
}
