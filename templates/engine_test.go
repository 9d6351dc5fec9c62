package templates

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-deploy/ferry/pki"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fakeInventory serves a small lab: two web servers and a load balancer.
type fakeInventory struct {
	groups map[string][]HostView
}

func (f fakeInventory) HostsOf(g string) ([]HostView, bool) {
	hs, ok := f.groups[g]
	return hs, ok
}

func (f fakeInventory) HostVars(h string) (map[string]any, bool) {
	for _, hs := range f.groups {
		for _, v := range hs {
			if v.Name == h {
				return v.Vars, true
			}
		}
	}
	return nil, false
}

func testInventory() fakeInventory {
	return fakeInventory{groups: map[string][]HostView{
		"web": {
			{Name: "web-01", Address: "198.18.0.21", Vars: map[string]any{}},
			{Name: "web-02", Address: "198.18.0.22", Vars: map[string]any{"http_port": 8080}},
		},
		"lb":    {{Name: "lb-01", Address: "198.18.0.11", Vars: map[string]any{}}},
		"empty": {},
	}}
}

func testData() map[string]any {
	return map[string]any{
		"inventory_hostname": "lb-01",
		"virtual_address":    "198.18.0.10",
		"site_name":          "www.ferry.test",
		"nginx_port":         80,
		"motd":               `it's "ferry" $HOME`,
		"users":              []any{"alice", "bob o'neil"},
		"packages":           []any{"nginx", "curl"},
		"nothing":            nil,
		"host":               map[string]any{"name": "lb-01", "address": "198.18.0.11", "groups": []any{"all", "lb"}},
		"facts":              map[string]any{"os_family": "debian", "os_id": "debian"},
	}
}

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	return New(Options{Inventory: testInventory(), BaseDir: "testdata/render", PKI: pki.New(filepath.Join(t.TempDir(), "pki"))})
}

func TestRenderGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/render/*.tmpl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in testdata/render: %v", err)
	}
	e := newTestEngine(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Render(f, string(text), testData())
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".tmpl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", f, golden, diff)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"missing key with suggestion", "a\nb\n{{ .nginx_prot }}", `templates/site.conf.tmpl:3: no variable "nginx_prot" (did you mean "nginx_port"?)`},
		{"missing key without suggestion", "{{ .zzzzzz }}", `templates/site.conf.tmpl:1: no variable "zzzzzz"`},
		{"nested missing key", "\n{{ .facts.os_idd }}", `templates/site.conf.tmpl:2: no variable "facts.os_idd" (did you mean "facts.os_id"?)`},
		{"root variable", "{{ range .users }}{{ $.sit_name }}{{ end }}", `templates/site.conf.tmpl:1: no variable "sit_name" (did you mean "site_name"?)`},
		{"key of a loop variable", "{{ range $h := .packages }}{{ $h.name }}{{ end }}", `templates/site.conf.tmpl:1: cannot read "name" in $h.name: the value is not a map`},
		{"null value", "x {{ .nothing }}", `templates/site.conf.tmpl:1: .nothing has no value (it is null or missing)`},
		{"null map access", "{{ .nothing.x }}", `templates/site.conf.tmpl:1: cannot read "x" of a null value in .nothing.x`},
		{"index of a missing key", `{{ index .facts "zz" }}`, `templates/site.conf.tmpl:1: index .facts "zz" has no value (it is null or missing)`},
		{"key of a host's vars", `{{ range hosts "web" }}{{ .Vars.http_port }}{{ end }}`, `templates/site.conf.tmpl:1: no key "http_port" in .Vars`},
		{"field of a number", "{{ .nginx_port.x }}", `templates/site.conf.tmpl:1: cannot read "x" in .nginx_port.x: the value is not a map`},
		{"field of a host", `{{ range hosts "web" }}{{ .Nmae }}{{ end }}`, `templates/site.conf.tmpl:1: cannot read "Nmae" in .Nmae: a host (fields Name, Address, Vars) has no such field or key`},
		{"syntax error", "ok\n\n{{ if }}", `templates/site.conf.tmpl:3: syntax: missing value for if`},
		{"unknown function", "{{ nosuchfunc 1 }}", `templates/site.conf.tmpl:1: syntax: function "nosuchfunc" not defined`},
		{"unclosed action", "a\n{{ .x ", `templates/site.conf.tmpl:2: syntax: unclosed action`},
		{"unknown group", `{{ hosts "wbe" }}`, `templates/site.conf.tmpl:1: hosts: no group "wbe" in the inventory`},
		{"unknown host", `{{ hostvar "web-9" "x" }}`, `templates/site.conf.tmpl:1: hostvar: no host "web-9" in the inventory`},
		{"unknown host variable", `{{ hostvar "web-02" "http_prt" }}`, `templates/site.conf.tmpl:1: hostvar: host "web-02" has no variable "http_prt" (did you mean "http_port"?)`},
		{"missing file", `{{ readFile "nope.txt" }}`, `templates/site.conf.tmpl:1: readFile: open testdata/render/nope.txt: no such file or directory`},
		{"quote a NUL", `{{ shellquote "a\x00b" }}`, `templates/site.conf.tmpl:1: shellquote: cannot quote a string holding a NUL byte`},
	}
	e := newTestEngine(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.Render("templates/site.conf.tmpl", tt.text, testData())
			if err == nil {
				t.Fatalf("rendered %q, want error %s", out, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			var te *Error
			if !errors.As(err, &te) || te.Line == 0 {
				t.Errorf("error %v is not an *Error with a line", err)
			}
			if strings.Contains(err.Error(), "<no value>") {
				t.Errorf("error mentions <no value>: %v", err)
			}
		})
	}
}

func TestRenderNeverPrintsNoValue(t *testing.T) {
	// Every way text/template has of printing "<no value>" must fail instead.
	e := newTestEngine(t)
	for _, text := range []string{
		"{{ .nothing }}", `{{ index .facts "missing" }}`, `{{ with .facts }}{{ index . "zz" }}{{ end }}`,
		`{{ define "x" }}{{ .nothing }}{{ end }}{{ template "x" . }}`, `{{ if true }}{{ .nothing }}{{ end }}`,
		`{{ range .users }}{{ else }}{{ .nothing }}{{ end }}{{ $.nothing }}`,
	} {
		out, err := e.Render("t", text, testData())
		if err == nil || strings.Contains(out, "<no value>") {
			t.Errorf("%s: got %q, %v; want an error", text, out, err)
		}
	}
	// An assignment of null prints nothing and stays legal.
	if out, err := e.Render("t", `{{ $x := .nothing }}{{ if $x }}set{{ else }}unset{{ end }}`, testData()); err != nil || out != "unset" {
		t.Errorf("assignment of null: %q, %v", out, err)
	}
}

func TestEval(t *testing.T) {
	tests := []struct {
		expr    string
		want    bool
		wantErr string
	}{
		{expr: `eq .nginx_port 80`, want: true},
		{expr: `eq .facts.os_family "redhat"`, want: false},
		{expr: `{{ and (eq .nginx_port 80) (has "alice" .users) }}`, want: true},
		{expr: `.nginx_port`, wantErr: `tasks.when:1: condition ".nginx_port" must give true or false`},
		{expr: `eq .mysql_role "primary"`, wantErr: `tasks.when:1: no variable "mysql_role"`},
		{expr: `eq .x (`, wantErr: `tasks.when:1: syntax: unclosed left paren`},
	}
	e := newTestEngine(t)
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := e.Eval("tasks.when", tt.expr, testData())
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestRenderValue(t *testing.T) {
	data := testData()
	in := map[string]any{
		"names": "{{ .packages }}",
		"port":  "{{ .nginx_port }}",
		"dest":  "/etc/{{ .site_name }}.conf",
		"mode":  "0644",
		"list":  []any{"{{ .nginx_port }}", "x{{ .nginx_port }}", 7, true},
		"strs":  []string{"{{ .site_name }}"},
		"deep":  map[string]any{"k": " {{ .nginx_port }}"},
		"keep":  false,
	}
	got, err := newTestEngine(t).RenderValue("role.yml", in, data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"names": []any{"nginx", "curl"},
		"port":  80,
		"dest":  "/etc/www.ferry.test.conf",
		"mode":  "0644",
		"list":  []any{80, "x80", 7, true},
		"strs":  []string{"www.ferry.test"},
		"deep":  map[string]any{"k": " 80"},
		"keep":  false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RenderValue (-want +got):\n%s", diff)
	}
	// The kept list is a copy: changing it leaves the variables alone.
	got.(map[string]any)["names"].([]any)[0] = "changed"
	if data["packages"].([]any)[0] != "nginx" {
		t.Error("RenderValue returned the variable's own list")
	}
	_, err = newTestEngine(t).RenderValue("role.yml", map[string]any{"a": map[string]any{"b": []any{"ok", "{{ .nope }}"}}}, data)
	if want := `role.yml:1: a.b[1]: no variable "nope"`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

func TestParsedOncePerText(t *testing.T) {
	e := newTestEngine(t)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			text := "{{ .site_name }}"
			if i%2 == 1 {
				text = "{{ .nginx_port }}"
			}
			if _, err := e.RenderValue("t", text, testData()); err != nil {
				t.Error(err)
			}
			if _, err := e.Render("t", text, testData()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := e.parses.Load(); n != 2 {
		t.Errorf("parsed %d times, want 2 (one per distinct text)", n)
	}
	// Text without an action is never parsed.
	if out, err := e.Render("t", "plain {text}", nil); err != nil || out != "plain {text}" || e.parses.Load() != 2 {
		t.Errorf("plain text: %q, %v, parses %d", out, err, e.parses.Load())
	}
	// No capture is left behind.
	n := 0
	e.captures.Range(func(_, _ any) bool { n++; return true })
	if n != 0 {
		t.Errorf("%d captured values left", n)
	}
}

func TestCheck(t *testing.T) {
	e := New(Options{})
	if err := e.Check("ok.tmpl", `{{ range hosts "web" }}{{ .Name }}{{ end }}{{ labCert "x" (list "y") }}`); err != nil {
		t.Errorf("valid template: %v", err)
	}
	err := e.Check("bad.tmpl", "line1\n{{ end }}")
	if want := "bad.tmpl:2: syntax: unexpected {{end}}"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
