package inventory

import (
	"errors"
	"testing"
)

func TestSuggest(t *testing.T) {
	keys := []string{"hosts", "children", "roles", "vars"}
	tests := []struct {
		word, want string
	}{
		{"hots", `; did you mean "hosts"?`},     // dropped letter
		{"hsots", `; did you mean "hosts"?`},    // swapped letters
		{"child", `; did you mean "children"?`}, // cut short
		{"Roles", `; did you mean "roles"?`},    // case
		{"variables", ""},                       // too far
		{"x", ""},                               // nothing close
	}
	for _, tt := range tests {
		if got := suggest(tt.word, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		err  error
		want string
	}{
		{&Error{File: "inv.yml", Line: 3, Msg: "bad"}, "inv.yml:3: bad"},
		{&Error{File: "inv.yml", Msg: "empty"}, "inv.yml: empty"},
		{ErrorList{{File: "a", Line: 1, Msg: "x"}, {File: "b", Line: 2, Msg: "y"}}, "a:1: x\nb:2: y"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	list := ErrorList{{File: "a", Msg: "x"}, {File: "b", Msg: "y", Err: cause}}
	if !errors.Is(list, cause) {
		t.Errorf("errors.Is does not see through ErrorList")
	}
}
