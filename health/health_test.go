package health

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-deploy/ferry/inventory"
)

func TestParseSections(t *testing.T) {
	out := "noise\n@@ferry-status addr\n1: lo    inet 127.0.0.1/8 scope host lo\n\n@@ferry-status-end 0\n" +
		"@@ferry-status alerts\n{}\n@@ferry-status-end 0\n" +
		"@@ferry-status replica\nERROR 2002\n\n@@ferry-status-end 1\n@@ferry-status cut\npartial\n"
	want := map[string]Section{
		"addr":    {Text: "1: lo    inet 127.0.0.1/8 scope host lo\n"},
		"alerts":  {Text: "{}"},
		"replica": {Text: "ERROR 2002\n", RC: 1},
	}
	if diff := cmp.Diff(want, ParseSections(out)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestScriptFramesSections runs the script of two checks in a real /bin/sh:
// each section ends on its own line with its command's status, even
// without a final newline, and a guarded section is left out when its
// tool is missing.
func TestScriptFramesSections(t *testing.T) {
	checks := []Check{
		{Role: "a", Script: func(vars map[string]any) string {
			return Ask("json", "printf '%s' "+VarString(vars, "word", "x")) + Ask("failing", "(echo oops >&2; exit 3)")
		}},
		{Role: "b", Script: func(map[string]any) string {
			return IfCommand("ferry-no-such-tool", Ask("never", "echo no"))
		}},
	}
	script := Script(checks, map[string]any{"word": "{}"})
	out, err := exec.Command("/bin/sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, script)
	}
	want := map[string]Section{"json": {Text: "{}"}, "failing": {Text: "oops\n", RC: 3}}
	if diff := cmp.Diff(want, ParseSections(string(out))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if strings.Contains(script, "services") {
		t.Error("a services section without units")
	}
}

func TestRate(t *testing.T) {
	host := func(name string) *inventory.Host { return &inventory.Host{Name: name} }
	var seen []string
	checks := []Check{
		{Role: "web", Units: []string{"nginx"}},
		{Role: "db", Units: []string{"mariadb", "nginx"},
			Host: func(a *Answer, o Options) []Row { return []Row{a.Row("db", OK, a.Var("role", "none"))} },
			Across: func(all []*Answer, o Options) []Row {
				for _, a := range all {
					seen = append(seen, a.Host.Name)
				}
				return []Row{{Host: "-", Check: "across", Status: Warn}}
			}},
	}
	if got := unitsOf(checks); !cmp.Equal(got, []string{"nginx", "mariadb"}) {
		t.Errorf("units %v", got)
	}
	answers := []*Answer{
		{Host: host("a"), Vars: map[string]any{"role": "primary"}, Sections: map[string]Section{
			"services": {Text: "Id=nginx.service\nLoadState=loaded\nActiveState=failed\n\nId=mariadb.service\nLoadState=not-found\nActiveState=inactive\n"},
		}},
		{Host: host("b"), Err: errors.New("dial tcp: connection refused")},
	}
	got := Rate(answers, checks, Options{})
	want := []Row{
		{"a", "ssh", OK, "reachable"},
		{"a", "service nginx", Fail, "failed"},
		{"a", "db", OK, "primary"},
		{"b", "ssh", Unreachable, got[3].Detail},
		{"-", "across", Warn, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(got[3].Detail, "connection refused") || !cmp.Equal(seen, []string{"a", "b"}) {
		t.Errorf("unreachable detail %q, across saw %v", got[3].Detail, seen)
	}
	if w := Worst(got); w != Unreachable {
		t.Errorf("worst %s", w)
	}
}

func TestPrint(t *testing.T) {
	rows := []Row{{"lb-01", "ssh", OK, "reachable"}, {"db-02", "replication", Fail, "lag\n 42 s secret"}}
	redact := func(s string) string { return strings.ReplaceAll(s, "secret", "********") }
	var human bytes.Buffer
	if err := Print(&human, "human", append([]Row(nil), rows...), redact); err != nil {
		t.Fatal(err)
	}
	want := "HOST   CHECK        STATUS  DETAIL\n" +
		"lb-01  ssh          ok      reachable\n" +
		"db-02  replication  fail    lag 42 s ********\n" +
		"\nUNHEALTHY: 1 ok, 0 warn, 1 fail, 0 unreachable\n"
	if human.String() != want {
		t.Errorf("human:\n%s\nwant:\n%s", human.String(), want)
	}
	var js bytes.Buffer
	if err := Print(&js, "json", rows, redact); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"event":"check","host":"lb-01","check":"ssh","status":"ok","detail":"reachable"}
{"event":"check","host":"db-02","check":"replication","status":"fail","detail":"lag 42 s ********"}
{"event":"summary","fail":1,"healthy":false,"ok":1,"unreachable":0,"warn":0}
`
	if js.String() != wantJSON {
		t.Errorf("json:\n%s\nwant:\n%s", js.String(), wantJSON)
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]string{"198.18.0.10": "198.18.0.10", "198.18.0.10/24": "198.18.0.10", "": "", "x": ""} {
		a, ok := ParseAddr(in)
		if (want == "") == ok || (ok && a.String() != want) {
			t.Errorf("ParseAddr(%q) = %v, %v", in, a, ok)
		}
	}
}
