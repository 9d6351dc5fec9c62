package fileerr

import (
	"errors"
	"io/fs"
	"testing"
)

func TestError(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "hosts.yml", Line: 3, Msg: "bad"}, "hosts.yml:3: bad"},
		{&Error{File: "hosts.yml", Msg: "bad"}, "hosts.yml: bad"},
		{&Error{Msg: "role \"x\" not found"}, `role "x" not found`},
		{&Error{File: "t", Line: 2, Key: "args.dest", Msg: "no variable"}, "t:2: args.dest: no variable"},
		{Errorf("r.yml", 4, "got %d", 5), "r.yml:4: got 5"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.err, got, tt.want)
		}
	}
	if !errors.Is(&Error{File: "f", Err: fs.ErrNotExist}, fs.ErrNotExist) {
		t.Error("Unwrap does not reach the cause")
	}
}
