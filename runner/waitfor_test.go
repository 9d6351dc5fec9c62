package runner_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWaitFor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	open := ln.Addr().(*net.TCPAddr).Port
	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := closedLn.Addr().(*net.TCPAddr).Port
	closedLn.Close()
	l := roleLab(t, 1, "wf", fmt.Sprintf(`tasks:
  - name: port open
    wait_for: {port: %d, timeout: 5}
  - name: port closed
    wait_for: {port: %d, state: stopped, timeout: 5}
  - name: log says ready
    wait_for: {path: "{{ .root }}/log", search_regex: "^ready", timeout: 10}
  - name: lock gone
    wait_for: {path: "{{ .root }}/lock", state: absent, timeout: 1}
`, open, closed))
	l.put("h01", "log", "starting\nready now\n")
	checkThenRun(t, l)

	// The real run waits for what appears while it waits.
	l.put("h01", "log", "starting\n")
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(1500 * time.Millisecond)
		os.WriteFile(filepath.Join(l.roots["h01"], "log"), []byte("starting\nready\n"), 0o644)
	}()
	rec, rc, err := l.deploy(runOpts{})
	<-done
	if err != nil || rc.Failed != 0 {
		t.Fatalf("deploy: %v, %v", err, rec.statuses())
	}

	// A wait that never ends fails after its timeout, in both modes.
	l.put("h01", "lock", "")
	for _, check := range []bool{true, false} {
		rec, rc := l.run(runOpts{check: check})
		if msg := rec.last("lock gone").Message; rc.Failed != 1 || !strings.Contains(msg, "absent: not after 1s") {
			t.Errorf("check=%v: %v, message %q", check, rec.statuses(), msg)
		}
	}
}
