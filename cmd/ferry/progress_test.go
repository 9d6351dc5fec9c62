package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxPane runs a command in a detached tmux session of its own server
// (a real terminal of 120x30) and reads the screen back.
type tmuxPane struct {
	t      *testing.T
	socket string
}

func newTmuxPane(t *testing.T, command string) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tmux is missing and CI=true: .ci/run installs it")
		}
		t.Skip("tmux is not installed (make test-prereqs): the live display needs a real terminal")
	}
	p := &tmuxPane{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	p.tmux("new-session", "-d", "-x", "120", "-y", "30", "-s", "ferry", command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", p.socket, "kill-server").Run() })
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is what the pane shows now; with history, the scrollback too.
func (p *tmuxPane) screen(history bool) string {
	if history {
		return p.tmux("capture-pane", "-p", "-J", "-S", "-")
	}
	return p.tmux("capture-pane", "-p", "-J")
}

// waitFor polls the screen until ok accepts it, and returns that screen.
func (p *tmuxPane) waitFor(what string, ok func(string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		if s = p.screen(false); ok(s) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("the terminal never showed %s; last screen:\n%s", what, s)
	return ""
}

func TestLiveProgressInTerminal(t *testing.T) {
	s := newSite(t, []string{"web-a", "web-b"})
	s.role("slow", `tasks:
  - name: quick step
    command: {cmd: "true"}
  - name: slow step
    command: {cmd: "sleep 3"}
`, nil)
	inv := s.inventory("slow", "")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := s.write("run.sh", "#!/bin/sh\n"+
		"export "+cliEnv+"=1 HOME="+shellQuote(os.Getenv("HOME"))+" SSH_AUTH_SOCK=\n"+
		shellQuote(self)+" deploy -i "+shellQuote(inv)+"\n"+
		"echo \"ferry exited $?\"\nexec sleep 600\n", 0o755)
	pane := newTmuxPane(t, script)

	// While the slow step runs, the status area shows both hosts with the
	// task and a running clock, and the count of hosts done.
	hostLine := func(h string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^` + h + `\s+\d\d:\d\d\s+slow : slow step\s*$`)
	}
	live := pane.waitFor("both hosts at the slow step", func(sc string) bool {
		return hostLine("web-a").MatchString(sc) && hostLine("web-b").MatchString(sc)
	})
	if !regexp.MustCompile(`hosts done 0/2, running 2`).MatchString(live) {
		t.Errorf("no count of hosts done in the status area:\n%s", live)
	}
	if !strings.Contains(live, "PLAY site [slow] on web-a, web-b") {
		t.Errorf("the play line did not print above the status area:\n%s", live)
	}

	// At the end the status area is gone and the recap stands last.
	pane.waitFor("ferry's exit", func(sc string) bool { return strings.Contains(sc, "ferry exited") })
	final := pane.screen(true)
	if !strings.Contains(final, "ferry exited 0") {
		t.Fatalf("deploy failed:\n%s", final)
	}
	var lines []string
	for _, l := range strings.Split(final, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, " "))
		}
	}
	end := strings.Join(lines[max(len(lines)-5, 0):], "\n")
	want := regexp.MustCompile(`(?s)RECAP\n  web-a +ok=\d.*\n  web-b +ok=\d.*\n  \d+ changed, 0 failed, 0 unreachable in [\d.]+s\nferry exited 0$`)
	if !want.MatchString(end) {
		t.Errorf("the recap does not stand at the end:\n%s\n\nwhole screen:\n%s", end, final)
	}
	if hostLine("web-a").MatchString(final) && strings.Index(final, "RECAP") < hostLine("web-a").FindStringIndex(final)[0] {
		t.Errorf("a host line of the status area is left below the recap:\n%s", final)
	}
}

func TestLiveProgressOfRunInTerminal(t *testing.T) {
	_, inv := runSite(t, "")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "run.sh")
	text := "#!/bin/sh\nexport " + cliEnv + "=1 HOME=" + shellQuote(os.Getenv("HOME")) + " SSH_AUTH_SOCK=\n" +
		shellQuote(self) + " run all -i " + shellQuote(inv) + " -- 'sleep 2; echo slept'\n" +
		"echo \"ferry exited $?\"\nexec sleep 600\n"
	if err := os.WriteFile(script, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	pane := newTmuxPane(t, script)
	running := regexp.MustCompile(`(?m)^(web-a|web-b|db-c)\s+\d\d:\d\d\s+running\s*$`)
	live := pane.waitFor("the hosts running", func(sc string) bool { return len(running.FindAllString(sc, -1)) == 3 })
	if !strings.Contains(live, "hosts done 0/3, running 3") {
		t.Errorf("no count in the status area:\n%s", live)
	}
	// The visible screen, not the history: with the area at the top of the
	// screen, each redraw clears the whole screen, which tmux's
	// scroll-on-clear copies into its history.
	final := pane.waitFor("ferry's exit", func(sc string) bool { return strings.Contains(sc, "ferry exited") })
	want := "---- web-a, web-b, db-c (3 hosts): exit 0\nslept\n3 ok, 0 failed, 0 unreachable\nferry exited 0"
	if !strings.Contains(final, want) || running.MatchString(final) {
		t.Errorf("final screen:\n%s\nwant it to end with:\n%s", final, want)
	}
}
