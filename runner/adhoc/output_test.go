package adhoc

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

func TestCollapse(t *testing.T) {
	down := errors.New("dial: connection refused")
	rs := []Result{
		{Host: "a", Stdout: "x\n"},
		{Host: "b", Stdout: "y\n"},
		{Host: "c", Stdout: "x\n"},
		{Host: "d", Stdout: "x\n", ExitCode: 1},
		{Host: "e", Stdout: "x\n", Stderr: "warn\n"},
		{Host: "f", ExitCode: -1, Err: down},
		{Host: "g", ExitCode: -1, Err: down},
	}
	var got []string
	for _, b := range Collapse(rs, true) {
		got = append(got, strings.Join(b.Hosts, "+"))
	}
	if want := "a+c b d e f+g"; strings.Join(got, " ") != want {
		t.Errorf("collapsed %q, want %q", got, want)
	}
	if n := len(Collapse(rs, false)); n != len(rs) {
		t.Errorf("not collapsed: %d blocks", n)
	}
	if s := Summarize(rs); s != (Summary{OK: 4, Failed: 1, Unreachable: 2}) {
		t.Errorf("summary %+v", s)
	}
}

func TestWriteHumanRedacts(t *testing.T) {
	rs := []Result{{Host: "a", Stdout: "pw=hunter2\n", Stderr: "e hunter2"}, {Host: "b", ExitCode: -1, Err: errors.New("lost with hunter2")}}
	var b strings.Builder
	redact := func(s string) string { return strings.ReplaceAll(s, "hunter2", "****") }
	if err := WriteHuman(&b, Collapse(rs, true), Summarize(rs), redact); err != nil {
		t.Fatal(err)
	}
	want := "---- a: exit 0\npw=****\nstderr: e ****\n---- b: unreachable (" + "unknown" + ")\nlost with ****\n1 ok, 0 failed, 1 unreachable\n"
	if got := b.String(); strings.Contains(got, "hunter2") || !strings.HasPrefix(got, "---- a: exit 0\npw=****\nstderr: e ****\n---- b: unreachable") {
		t.Errorf("got:\n%s\nwant like:\n%s", got, want)
	}
	b.Reset()
	if err := WriteJSON(&b, rs, redact); err != nil || strings.Contains(b.String(), "hunter2") || strings.Count(b.String(), "\n") != 3 {
		t.Errorf("json: %v\n%s", err, b.String())
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"deploy": "deploy", "": "''", "a b": "'a b'", "it's": `'it'\''s'`, "$HOME": "'$HOME'"} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

var _ executor.Executor = (*countingExec)(nil)
