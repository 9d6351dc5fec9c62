package modules

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReferenceTableMatchesSpecs keeps doc/roles.md honest: every module in
// its table is registered with exactly the arguments the table lists.
func TestReferenceTableMatchesSpecs(t *testing.T) {
	b, err := os.ReadFile("../../doc/roles.md")
	if err != nil {
		t.Fatal(err)
	}
	word := regexp.MustCompile("`([a-z_]+)`")
	seen := 0
	for _, line := range strings.Split(string(b), "\n") {
		cols := strings.Split(strings.ReplaceAll(line, `\|`, "/"), "|")
		if len(cols) < 4 || !strings.HasPrefix(strings.TrimSpace(cols[1]), "`") {
			continue
		}
		var docArgs []string
		for _, m := range word.FindAllStringSubmatch(cols[2], -1) {
			docArgs = append(docArgs, m[1])
		}
		slices.Sort(docArgs)
		for _, m := range word.FindAllStringSubmatch(cols[1], -1) {
			seen++
			spec, ok := Lookup(m[1])
			if !ok {
				t.Errorf("%s: in the table but not registered", m[1])
				continue
			}
			args := slices.Clone(spec.Args)
			slices.Sort(args)
			if !slices.Equal(args, docArgs) {
				t.Errorf("%s: table lists %v, module takes %v", m[1], docArgs, args)
			}
			for _, r := range spec.Required {
				if !strings.Contains(cols[2], "`"+r+"`*") {
					t.Errorf("%s: %s is required but not starred in the table", m[1], r)
				}
			}
		}
	}
	if seen != len(Names()) {
		t.Errorf("table has %d modules, %d registered: %v", seen, len(Names()), Names())
	}
}
