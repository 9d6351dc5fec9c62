package statedir

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestScriptReadsWhatTheEngineWrites: Script, run by a real shell against
// a folder laid out as PendingFile and DrainedFile name it, gives back the
// pending handlers per play and the drained plays.
func TestScriptReadsWhatTheEngineWrites(t *testing.T) {
	dir := t.TempDir()
	for file, text := range map[string]string{
		PendingFile(dir, "web"): "reload nginx\nreload nginx\nrestart php\n",
		PendingFile(dir, "db"):  "restart mariadb\n",
		DrainedFile(dir, "web"): "",
	} {
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-c", Script)
	cmd.Env = append(os.Environ(), "FERRY_STATE_DIR="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var l Left
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		if !l.Line(k, v) {
			t.Errorf("line %q is not the state's", sc.Text())
		}
	}
	if got := l.Pending("web"); !reflect.DeepEqual(got, []string{"reload nginx", "restart php"}) {
		t.Errorf("web pending %q", got)
	}
	if got := l.Pending("db"); !reflect.DeepEqual(got, []string{"restart mariadb"}) {
		t.Errorf("db pending %q", got)
	}
	if !l.Drained("web") || l.Drained("db") {
		t.Errorf("drained %q, want web only", l.DrainedPlays)
	}
	if l.Line("os_id", "debian") {
		t.Error("a fact taken for state")
	}
	if l.Deployed {
		t.Error("deployed before MarkDeployed")
	}
	if l.Holder != "" {
		t.Errorf("holder %q with no run holding the lock", l.Holder)
	}
	if err := os.WriteFile(HolderFile(dir), []byte("ferry-0123 ops@laptop pid 42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mark := exec.Command("sh", "-c", "d="+dir+"\n"+MarkDeployed)
	if err := mark.Run(); err != nil {
		t.Fatal(err)
	}
	again := exec.Command("sh", "-c", Script)
	again.Env = cmd.Env
	if out, err = again.Output(); err != nil {
		t.Fatal(err)
	}
	var after Left
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		after.Line(k, v)
	}
	if after.Holder != "ferry-0123" {
		t.Errorf("holder %q, want the run's name alone", after.Holder)
	}
	if _, err := os.Stat(DeployedFile(dir)); err != nil || !after.Deployed {
		t.Errorf("after MarkDeployed: file %v, deployed %v", err, after.Deployed)
	}
}

// TestScriptWaitsForTheRunsLock: with $FERRY_RUN set, Script reports the
// holder once the holder file names that run (the lock taken while the
// read was under way), and gives up after a second to report whichever
// run holds the lock.
func TestScriptWaitsForTheRunsLock(t *testing.T) {
	holder := func(dir, run string, after time.Duration) string {
		done := make(chan error, 1)
		go func() {
			time.Sleep(after)
			done <- os.WriteFile(HolderFile(dir), []byte(run+" ops@laptop\n"), 0o600)
		}()
		cmd := exec.Command("sh", "-c", Script)
		cmd.Env = append(os.Environ(), "FERRY_STATE_DIR="+dir, "FERRY_RUN=ferry-mine")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var l Left
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			k, v, _ := strings.Cut(line, "=")
			l.Line(k, v)
		}
		return l.Holder
	}
	if got := holder(t.TempDir(), "ferry-mine", 300*time.Millisecond); got != "ferry-mine" {
		t.Errorf("lock taken while the read waited: holder %q, want ferry-mine", got)
	}
	if got := holder(t.TempDir(), "ferry-other", 0); got != "ferry-other" {
		t.Errorf("lock held by another run: holder %q, want ferry-other", got)
	}
}
