package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeScript(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inventory.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestScriptTimeout: a script that hangs, with a child holding its output
// open, is stopped at the time limit with everything it started.
func TestScriptTimeout(t *testing.T) {
	old := ScriptTimeout
	ScriptTimeout = 300 * time.Millisecond
	t.Cleanup(func() { ScriptTimeout = old })
	path := writeScript(t, "sleep 30 &\nsleep 30\n")
	start := time.Now()
	_, err := Load(path)
	elapsed := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "stopped after the 300ms time limit") {
		t.Fatalf("got %v, want the time limit named", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.File != path {
		t.Errorf("error does not name the script: %v", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("Load returned after %s: the script's children were not stopped", elapsed)
	}
}

func TestScriptErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"fails", "echo 'cannot reach the API' >&2\nexit 4\n", "inventory script (run with --list) failed with exit status 4: cannot reach the API"},
		{"bad JSON", "echo '{\"web\": {\"hosts\": [\"a\"]},'\necho '  oops'\n", "inventory script printed invalid JSON: line 2 of its output: invalid character 'o'"},
		{"not an object", "echo '[1, 2]'\n", "inventory script printed invalid JSON: json: cannot unmarshal array"},
		{"hosts not a list", "echo '{\"web\": {\"hosts\": \"a\"}, \"_meta\": {\"hostvars\": {}}}'\n", `inventory script: group "web": hosts must be a list`},
		{"empty --host", "[ \"$1\" = --list ] && echo '{\"web\": [\"a\"]}'\nexit 0\n", `inventory script (run with --host a) printed invalid JSON: EOF`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeScript(t, tt.body)
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("error does not start with the script's path: %v", err)
			}
		})
	}
}

// TestScriptNotExecutable: without its x bit a script is read as INI, as
// Ansible would, and its shell lines are reported as bad host lines.
func TestScriptNotExecutable(t *testing.T) {
	path := writeScript(t, "echo '{}'\n")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Fatalf("got %v, want an INI error at line 2", err)
	}
}
