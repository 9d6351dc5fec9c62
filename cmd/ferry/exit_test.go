package main

import (
	"testing"

	"github.com/ferry-deploy/ferry/runner"
)

// TestRecapExit: the one mapping from a run's recap to ferry's exit code.
func TestRecapExit(t *testing.T) {
	tests := []struct {
		name  string
		recap runner.Recap
		want  int
	}{
		{"clean", runner.Recap{Changed: 3}, exitOK},
		{"failed", runner.Recap{Failed: 1}, exitFailed},
		{"unreachable wins over failed", runner.Recap{Failed: 2, Unreachable: 1}, exitUnreachable},
		{"interrupted", runner.Recap{Interrupted: true}, exitFailed},
		{"refused hosts are not failed tasks", runner.Recap{Failed: 1, Refused: 1}, exitOK},
		{"a failure besides a refusal", runner.Recap{Failed: 2, Refused: 1}, exitFailed},
	}
	for _, tt := range tests {
		if got := exitCode(recapExit(tt.recap)); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}
