package roles

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDelegateAndBecomeUserLoad(t *testing.T) {
	r, _, err := loadText(t, `tasks:
  - name: outer
    delegate_to: db-01
    become_user: postgres
    block:
      - name: one
        testmod_package: {names: x}
      - name: two
        testmod_package: {names: x}
        delegate_to: localhost
        become_user: "{{ .app_user }}"
`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, task := range Flatten(r.Tasks) {
		got = append(got, fmt.Sprintf("%s delegate=%s user=%s", task.Name, task.DelegateTo, task.BecomeUser))
	}
	want := []string{"one delegate=db-01 user=postgres", "two delegate=localhost user={{ .app_user }}"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDelegateAndBecomeUserBadInput(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"delegate_to list", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    delegate_to: [a, b]\n", `:4: delegate_to must be a string, got a list`},
		{"delegate_to empty", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    delegate_to: \" \"\n", `:4: delegate_to must not be empty`},
		{"delegate_to syntax", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    delegate_to: \"{{ .a \"\n", `:4: delegate_to: template syntax: unclosed action`},
		{"become_user not a name", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    become_user: \"bob; rm -rf /\"\n", `:4: become_user "bob; rm -rf /" is not a user name (letters, digits, _, . and -)`},
		{"become_user number", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    become_user: {a: 1}\n", `:4: become_user must be a string, got a mapping`},
		{"typo", "tasks:\n  - name: a\n    testmod_package: {names: x}\n    delegate: h1\n", `:4: unknown task key "delegate" (did you mean "delegate_to"?)`},
		{"block typo", "tasks:\n  - name: a\n    delegate_too: h1\n    block:\n      - name: b\n        testmod_package: {names: x}\n", `:3: unknown block key "delegate_too" (did you mean "delegate_to"?); a block has block, rescue, always, name, when, become, tags, vars, no_log, delegate_to and become_user`},
	}
	badInputCases(t, tests)
}
