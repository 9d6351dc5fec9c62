package modules

import (
	"strings"
	"testing"
)

func TestWaitForArguments(t *testing.T) {
	spec, _ := Lookup("wait_for")
	tests := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, "give port or path"},
		{map[string]any{"port": 80, "path": "/x"}, "give port or path"},
		{map[string]any{"port": 80, "state": "absent"}, "a port is started or stopped"},
		{map[string]any{"path": "/x", "state": "stopped"}, "a path is present or absent"},
		{map[string]any{"path": "/x", "state": "absent", "search_regex": "a"}, "search_regex needs path and state present"},
		{map[string]any{"port": 70000}, "port"},
		{map[string]any{"port": 80, "state": "up"}, "state"},
	}
	for _, tt := range tests {
		_, err := spec.New(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
	if _, err := spec.New(map[string]any{"port": 8080, "timeout": 3}); err != nil {
		t.Errorf("port 8080: %v", err)
	}
}

func TestAssertAndFailPlans(t *testing.T) {
	a, _ := Lookup("assert")
	m, err := a.New(map[string]any{"that": []any{true, "true", false}, "fail_msg": "no"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Plan(t.Context(), nil); err == nil || err.Error() != "no" {
		t.Errorf("assert with a false condition: %v, want fail_msg", err)
	}
	m, _ = a.New(map[string]any{"that": "maybe"})
	if _, err := m.Plan(t.Context(), nil); err == nil || !strings.Contains(err.Error(), "must give true or false") {
		t.Errorf("assert on a non-boolean: %v", err)
	}
	f, _ := Lookup("fail")
	m, _ = f.New(map[string]any{})
	if _, err := m.Plan(t.Context(), nil); err == nil {
		t.Error("fail did not fail")
	}
}

func TestCronArguments(t *testing.T) {
	spec, _ := Lookup("cron")
	tests := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "app.cron", "job": "x"}, "use letters, digits, _ and - only"},
		{map[string]any{"name": "app", "job": ""}, "job must be one non-empty line"},
		{map[string]any{"name": "app", "job": "a\nb"}, "job must be one non-empty line"},
		{map[string]any{"name": "app", "job": "x", "minute": "* *"}, `minute "* *" is not a cron time field`},
		{map[string]any{"name": "app", "job": "x", "user": "Bad User"}, "is not a user name"},
		{map[string]any{"name": "app", "job": "x", "cron_file": "rel/app"}, "want an absolute path"},
		{map[string]any{"name": "app", "job": "x", "env": []any{"NOEQUALS"}}, "want NAME=value"},
	}
	for _, tt := range tests {
		_, err := spec.New(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}
