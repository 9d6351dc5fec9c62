// Package mask hides secret values in text meant for people or programs:
// output, diffs, errors and logs.
//
// What is masked, for each secret value:
//   - the value itself and its JSON-escaped forms (a value that reached an
//     encoded line without going through a field's own masking);
//   - for a value of several lines (a PEM key, say), each line on its own
//     (without its indentation) and its JSON-escaped forms, because diffs
//     and command output show a file or a stream line by line;
//   - a value (or line) of at least MinSubstring bytes wherever it occurs,
//     even inside a longer word; a shorter one only as a whole word (not
//     next to a letter, digit or underscore), so that a secret "ab" does
//     not turn "variable" into "vari********le" and reveal itself. A line
//     of a multi-line value with no letter or digit carries nothing secret
//     and is left as is.
package mask

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mask replaces a secret value.
const Mask = "********"

// MinSubstring is the shortest value masked inside longer words.
const MinSubstring = 6

// Masker masks a fixed set of secret values. The zero value masks nothing.
type Masker struct {
	sub   *strings.Replacer
	words []string // shorter than MinSubstring: whole words only, longest first
}

// New returns a Masker for values; empty values are ignored.
func New(values []string) *Masker {
	seen := map[string]bool{}
	var subs, words []string
	add := func(n string, line bool) {
		if n == "" || seen[n] {
			return
		}
		if line && !strings.ContainsFunc(n, isWordRune) {
			return
		}
		seen[n] = true
		if len(n) >= MinSubstring {
			subs = append(subs, n)
		} else {
			words = append(words, n)
		}
	}
	for _, v := range values {
		for _, f := range forms(v) {
			add(f, false)
		}
		if !strings.ContainsAny(v, "\r\n") {
			continue
		}
		for _, l := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
			for _, f := range forms(strings.TrimSpace(l)) {
				add(f, true)
			}
		}
	}
	longestFirst(subs)
	longestFirst(words)
	m := &Masker{words: words}
	if len(subs) > 0 {
		pairs := make([]string, 0, 2*len(subs))
		for _, s := range subs {
			pairs = append(pairs, s, Mask)
		}
		// Replacer tries the pairs in order at each position: the
		// longest first wins, so a secret holding another is masked whole.
		m.sub = strings.NewReplacer(pairs...)
	}
	return m
}

// Redact returns s with every secret masked.
func (m *Masker) Redact(s string) string {
	if m == nil {
		return s
	}
	if m.sub != nil {
		s = m.sub.Replace(s)
	}
	for _, w := range m.words {
		s = replaceWord(s, w)
	}
	return s
}

// forms are v and its JSON-escaped spellings (with and without Go's
// escaping of <, > and &).
func forms(v string) []string {
	out := []string{v}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		b := bytes.TrimSpace(buf.Bytes())
		out = append(out, string(b[1:len(b)-1]))
	}
	return out
}

func longestFirst(list []string) {
	sort.Slice(list, func(i, j int) bool {
		if len(list[i]) != len(list[j]) {
			return len(list[i]) > len(list[j])
		}
		return list[i] < list[j]
	})
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// replaceWord masks the occurrences of w in s that are not part of a
// longer word.
func replaceWord(s, w string) string {
	var b strings.Builder
	done := 0 // s[:done] is written to b
	for from := 0; ; {
		i := strings.Index(s[from:], w)
		if i < 0 {
			break
		}
		i += from
		end := i + len(w)
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (i == 0 || !isWordRune(before)) && (end == len(s) || !isWordRune(after)) {
			b.WriteString(s[done:i])
			b.WriteString(Mask)
			done = end
		}
		from = end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}
