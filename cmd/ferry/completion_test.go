package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/internal/testfs"
)

// completionInv is a small inventory with groups, hosts and a role with tags.
func completionInv(t *testing.T) string {
	t.Helper()
	dir := testfs.WriteTree(t, map[string]string{
		"roles/site/role.yml": "tasks:\n  - name: one\n    command: {cmd: 'true'}\n    tags: [config, web-tag]\n  - name: two\n    command: {cmd: 'true'}\n    tags: [deps]\n",
		"inventory.yml": `connection: {user: root}
groups:
  db:
    hosts:
      db-01: {address: 198.18.0.31}
      db-02: {address: 198.18.0.32}
  web:
    roles: [site]
    hosts:
      web-01: {address: 198.18.0.21}
      web-02: {address: 198.18.0.22}
  lb:
    hosts:
      lb-01: {address: 198.18.0.11}
`,
	})
	return filepath.Join(dir, "inventory.yml")
}

// bashComplete runs ferry's generated bash completion in a real bash with
// the words of a command line (the last one being completed) and returns
// COMPREPLY.
func bashComplete(t *testing.T, script string, words ...string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash on this machine: completion scripts cannot be run")
	}
	// cobra's bash script builds on the bash-completion package, as it does
	// in an operator's shell.
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("bash-completion is missing and CI=true: .ci/run installs it (%v)", err)
		}
		t.Skip("bash-completion is not installed (make test-prereqs): " + err.Error())
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	quoted := []string{shellQuote(self)}
	for _, w := range words {
		quoted = append(quoted, shellQuote(w))
	}
	prog := `source ` + bashCompletion + `
source "$1"
COMP_WORDS=(` + strings.Join(quoted, " ") + `)
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
COMP_TYPE=9
__start_ferry
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog, "bash", script)
	cmd.Env = append(os.Environ(), cliEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			got = append(got, l)
		}
	}
	return got
}

func shellQuote(s string) string { return shell.Literal(s) }

func TestBashCompletionListsHostsAndGroups(t *testing.T) {
	inv := completionInv(t)
	script := filepath.Join(t.TempDir(), "ferry.bash")
	out, code := ferry(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "__start_ferry") {
		t.Fatalf("ferry completion bash: exit %d\n%.300s", code, out)
	}
	if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		words []string
		want  []string
	}{
		{[]string{"run", "-i", inv, ""}, []string{"all", "db", "lb", "web", "db-01", "db-02", "web-01", "web-02", "lb-01"}},
		{[]string{"run", "-i", inv, "we"}, []string{"web", "web-01", "web-02"}},
		{[]string{"run", "-i", inv, "web,d"}, []string{"web,db", "web,db-01", "web,db-02"}},
		// bash splits words at ":" (COMP_WORDBREAKS): it replaces only what
		// follows the last colon, so the candidates come without "all:".
		{[]string{"run", "-i", inv, "all:!l"}, []string{"!lb", "!lb-01"}},
		{[]string{"facts", "-i", inv, "lb"}, []string{"lb", "lb-01"}},
		{[]string{"deploy", "-i", inv, "--limit", "db-"}, []string{"db-01", "db-02"}},
		{[]string{"deploy", "-i", inv, "--tags", ""}, []string{"config", "deps", "web-tag"}},
		{[]string{"deploy", "-i", inv, "--tags", "config,d"}, []string{`config\,deps`}}, // one match: quoted for the shell
		{[]string{"deploy", "-i", inv, "--output", ""}, []string{"human", "json"}},
		{[]string{"run", "web", "-i", inv, "-m", "pack"}, []string{"package"}},
	}
	for _, c := range cases {
		got := bashComplete(t, script, c.words...)
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ferry %s<TAB>: got %q, want %q", strings.Join(c.words, " "), got, want)
		}
	}
	// The inventory may come from FERRY_INVENTORY instead of -i.
	t.Setenv("FERRY_INVENTORY", inv)
	if got := bashComplete(t, script, "run", "lb"); !slices.Equal(got, []string{"lb", "lb-01"}) {
		t.Errorf("with FERRY_INVENTORY: got %q", got)
	}
}

// zsh and fish scripts come from the same cobra machinery and call the
// same `ferry __complete`, which the bash test drives.
func TestCompletionScriptsForEveryShell(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, code := ferry(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "__complete") {
			t.Errorf("ferry completion %s: exit %d\n%.200s", sh, code, out)
		}
	}
	inv := completionInv(t)
	out, code := ferry(t, "__complete", "facts", "-i", inv, "web-")
	if code != 0 || !strings.HasPrefix(out, "web-01\nweb-02\n:4\n") {
		t.Errorf("__complete: exit %d\n%s", code, out)
	}
}
