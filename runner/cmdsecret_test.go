package runner_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner"
)

// TestSecretInCommandArgumentRefused: a secret in the words of a `command`
// task would show in the host's process list while the program runs; it is
// bad input, named without the secret, and nothing runs.
func TestSecretInCommandArgumentRefused(t *testing.T) {
	l := newLab(t, 1, "argsecret")
	rec, _, err := l.deploy(runOpts{})
	var bad *runner.BadInputError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "process list") {
		t.Fatalf("err %v, want bad input about the process list", err)
	}
	if strings.Contains(err.Error(), canary) {
		t.Errorf("the error shows the secret: %v", err)
	}
	if _, err := os.Stat(filepath.Join(l.roots["h01"], "ran")); err == nil || len(rec.changed()) > 0 {
		t.Error("the command ran")
	}
}
