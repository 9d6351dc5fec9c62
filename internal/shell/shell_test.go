package shell

import (
	"math/rand/v2"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// shWords runs one script in /bin/sh that prints each word, NUL-terminated,
// and returns what the shell saw: the round trip the quoting must survive.
func shWords(t *testing.T, quoted []string) []string {
	t.Helper()
	script := "printf '%s\\0' " + strings.Join(quoted, " ")
	out, err := exec.Command("/bin/sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", script, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// hostile are strings that break naive quoting.
var hostile = []string{
	"", " ", "a b", "'", "''", `"`, `\`, `\'`, "$HOME", "${x:-y}", "`id`", "$(id)",
	"a;b", "a|b", "a&b", "*", "?", "[a]", "~", "~root", "#c", "a#b", "\n", "\t",
	"it's", `"$x"`, "-n", "--", "a=b", "!", "{a,b}", "é", "\xff\xfe", "%s",
}

func TestQuoteRoundTripsThroughSh(t *testing.T) {
	for _, quote := range []func(string) string{Quote, Literal} {
		q := make([]string, len(hostile))
		for i, s := range hostile {
			q[i] = quote(s)
		}
		if got := shWords(t, q); !reflect.DeepEqual(got, hostile) {
			t.Errorf("sh saw %q\nwant   %q\nquoted %q", got, hostile, q)
		}
	}
}

// TestQuoteProperty: random strings of every byte but NUL (which no shell
// word can carry) come back from /bin/sh unchanged, through Quote and
// through Split.
func TestQuoteProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 6))
	const special = "'\"\\$`*?[]~#; |&<>(){}!= \t\nab-"
	const n = 2000
	words := make([]string, n)
	quoted := make([]string, n)
	for i := range words {
		b := make([]byte, r.IntN(12))
		for j := range b {
			// Mostly the bytes the shell gives meaning to, some of all.
			if r.IntN(3) == 0 {
				b[j] = byte(1 + r.IntN(255))
			} else {
				b[j] = special[r.IntN(len(special))]
			}
		}
		words[i] = string(b)
		quoted[i] = Quote(words[i])
	}
	if got := shWords(t, quoted); !reflect.DeepEqual(got, words) {
		for i := range words {
			if i >= len(got) || got[i] != words[i] {
				t.Fatalf("word %d: %q quoted as %s came back as %q", i, words[i], quoted[i], got[min(i, len(got)-1)])
			}
		}
		t.Fatalf("sh returned %d words, want %d", len(got), n)
	}
	split, err := Split(strings.Join(quoted, " "))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(split, words) {
		t.Errorf("Split of the quoted words differs from the words")
	}
}

// FuzzQuote checks the round trip for whatever the fuzzer finds
// (go test -fuzz FuzzQuote ./internal/shell/); the seeds run as a test.
func FuzzQuote(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckWord(s) != nil {
			t.Skip("a NUL byte cannot be in a shell word; CheckWord says so")
		}
		if got := shWords(t, []string{Quote(s)}); len(got) != 1 || got[0] != s {
			t.Errorf("%q quoted as %s came back as %q", s, Quote(s), got)
		}
		words, err := Split(Literal(s))
		if err != nil || len(words) != 1 || words[0] != s {
			t.Errorf("Split(%s) = %q, %v", Literal(s), words, err)
		}
	})
}

func TestQuoteLeavesPlainWordsBare(t *testing.T) {
	for in, want := range map[string]string{
		"nginx": "nginx", "/etc/a-b_c.conf": "/etc/a-b_c.conf", "": "''", "a b": "'a b'",
		"~": "'~'", "it's": `'it'\''s'`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := Literal("nginx"); got != "'nginx'" {
		t.Errorf("Literal(nginx) = %s", got)
	}
	if CheckWord("a\x00b") == nil {
		t.Error("CheckWord accepts a NUL byte")
	}
}

func TestSplit(t *testing.T) {
	for in, want := range map[string][]string{
		`a b  c`:               {"a", "b", "c"},
		`echo 'x y' "a \"b\""`: {"echo", "x y", `a "b"`},
		`a\ b c''`:             {"a b", "c"},
		`mysql -e "SELECT 1"`:  {"mysql", "-e", "SELECT 1"},
		`"\$x \n"`:             {`$x \n`},
		"a\nb":                 {"a", "b"},
		`a#b c`:                {"a#b", "c"},
	} {
		got, err := Split(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Split(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for bad, msg := range map[string]string{`echo 'x`: `unterminated ' quote`, `echo "x`: `unterminated " quote`} {
		if _, err := Split(bad); err == nil || err.Error() != msg {
			t.Errorf("Split(%q): %v, want %s", bad, err, msg)
		}
	}
}

func TestSplitComments(t *testing.T) {
	for in, want := range map[string][]string{
		`web-01 a=1 # note`:   {"web-01", "a=1"},
		`h x=a#b`:             {"h", "x=a"},
		`h x="a # b" y='c\d'`: {"h", "x=a # b", `y=c\d`},
		`h x="\$y"`:           {"h", `x=\$y`},
	} {
		got, err := SplitComments(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitComments(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestShWordsSeesBytes(t *testing.T) {
	// The harness itself must be able to fail: an unquoted blank splits.
	if got := shWords(t, []string{"a b"}); len(got) != 2 {
		t.Fatalf("unquoted 'a b' gave %q", got)
	}
}
