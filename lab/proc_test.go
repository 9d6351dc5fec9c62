package lab

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/a\040b/c`); got != "/a b/c" {
		t.Errorf("got %q", got)
	}
	if got := unescapeMount(`/plain`); got != "/plain" {
		t.Errorf("got %q", got)
	}
}

func TestMountsUnderOrdersChildrenFirst(t *testing.T) {
	mps, err := mountsUnder("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(mps); i++ {
		if len(mps[i]) > len(mps[i-1]) {
			t.Fatalf("%q after %q: children must come first", mps[i], mps[i-1])
		}
	}
}

func TestTerminateAwaitsExit(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Our own child stays a zombie until reaped; the pidfd reports its exit
	// all the same, which is what matters for processes we did not start.
	start := time.Now()
	if err := terminate(context.Background(), []int{cmd.Process.Pid}, syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("terminate took %s", d)
	}
	_ = cmd.Wait()
}

func TestTerminateKillsStubbornProcess(t *testing.T) {
	cmd := exec.Command("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Signal only once the trap is set; before, SIGTERM would simply work.
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	err = terminate(context.Background(), []int{cmd.Process.Pid}, syscall.SIGTERM, 300*time.Millisecond)
	var killed *KilledError
	if !errors.As(err, &killed) {
		t.Fatalf("a process ignoring SIGTERM: got %v, want a KilledError (lab down warns and goes on)", err)
	}
	_ = cmd.Wait() // returns only because SIGKILL followed
}

func TestReadPidFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pid")
	self := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(p, []byte(self+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readPidFile(p, func([]string) bool { return true }); got != os.Getpid() {
		t.Errorf("live pid: got %d", got)
	}
	if got := readPidFile(p, func([]string) bool { return false }); got != 0 {
		t.Errorf("pid of another program: got %d, want 0", got)
	}
	if got := readPidFile(filepath.Join(dir, "none"), func([]string) bool { return true }); got != 0 {
		t.Errorf("missing pid file: got %d", got)
	}
}

func TestRemoveTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	if err := os.MkdirAll(filepath.Join(dir, "a/b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := removeTree(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("tree still there: %v", err)
	}
}
