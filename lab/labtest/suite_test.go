package labtest

import (
	"errors"
	"testing"
)

// TestUpAndTestFailsWithoutTests: a lab up that fails or panics gives 1,
// and returns (the panic does not escape), so that the teardown still runs.
func TestUpAndTestFailsWithoutTests(t *testing.T) {
	for name, up := range map[string]func(*Supervisor) ([]string, error){
		"error": func(*Supervisor) ([]string, error) { return nil, errors.New("no lab") },
		"panic": func(*Supervisor) ([]string, error) { panic("no lab") },
	} {
		t.Run(name, func(t *testing.T) {
			sup := NewSupervisor("labtest")
			defer sup.Stop()
			if code := (Suite{Name: "labtest", ChildEnv: "FERRY_LABTEST_CHILD", Up: up}).upAndTest(sup); code != 1 {
				t.Errorf("upAndTest = %d, want 1", code)
			}
		})
	}
}
