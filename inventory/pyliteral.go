package inventory

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyLiteral types an INI value the way Ansible's INI plugin does: it tries
// Python's ast.literal_eval and keeps the text when that fails. So "5" is
// the int 5, "[1, 2]" a list, "{'k': 'v'}" a dict, "'5'" the string 5,
// "True" a boolean and "None" null, while "true", "0777" and "web-01" stay
// strings. A "# comment" after a literal is Python's comment; after a word
// that is not a literal it is part of the text.
//
// What Python would evaluate to a value JSON cannot hold (sets, complex
// numbers, bytes) is kept as text here, as is an int beyond 64 bits.
func pyLiteral(s string) any {
	p := pyParser{s: strings.TrimLeft(s, " \t")}
	v, ok := p.top()
	if !ok {
		return s
	}
	return v
}

type pyParser struct {
	s string
	i int
}

// top is Python's eval input: an expression, or a bare tuple ("1, 2").
func (p *pyParser) top() (any, bool) {
	v, ok := p.expr()
	if !ok {
		return nil, false
	}
	if p.peek() == ',' {
		items := []any{v}
		for p.peek() == ',' {
			p.i++
			if p.peek() == 0 {
				break
			}
			x, ok := p.expr()
			if !ok {
				return nil, false
			}
			items = append(items, x)
		}
		v = items
	}
	return v, p.peek() == 0
}

// peek skips blanks and comments and returns the next byte (0 at the end).
func (p *pyParser) peek() byte {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\f':
			p.i++
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == '\n' || c == '\r':
			p.i++
		default:
			return c
		}
	}
	return 0
}

func (p *pyParser) expr() (any, bool) {
	switch c := p.peek(); {
	case c == '-' || c == '+':
		p.i++
		// literal_eval takes one sign on a number, not on a sign ("--5").
		if d := p.peek(); !(d >= '0' && d <= '9' || d == '.') {
			return nil, false
		}
		v, ok := p.number()
		if !ok {
			return nil, false
		}
		switch n := v.(type) {
		case int:
			if c == '-' {
				return -n, true
			}
			return n, true
		case float64:
			if c == '-' {
				return -n, true
			}
			return n, true
		}
		return nil, false
	case c == '[':
		p.i++
		items, ok := p.items(']')
		return items, ok
	case c == '(':
		p.i++
		if p.peek() == ')' {
			p.i++
			return []any{}, true
		}
		v, ok := p.expr()
		if !ok {
			return nil, false
		}
		if p.peek() == ')' { // a parenthesised value, not a tuple
			p.i++
			return v, true
		}
		if p.peek() != ',' {
			return nil, false
		}
		p.i++
		rest, ok := p.items(')')
		return append([]any{v}, rest...), ok
	case c == '{':
		p.i++
		return p.dict()
	case c >= '0' && c <= '9' || c == '.':
		return p.number()
	case c == '"' || c == '\'':
		return p.strings("")
	case isIdentStart(c):
		start := p.i
		for p.i < len(p.s) && isIdentChar(p.s[p.i]) {
			p.i++
		}
		word := p.s[start:p.i]
		switch word {
		case "True":
			return true, true
		case "False":
			return false, true
		case "None":
			return nil, true
		}
		if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\'') && len(word) <= 2 {
			return p.strings(strings.ToLower(word))
		}
	}
	return nil, false
}

// items reads "a, b, c" up to close, a trailing comma allowed.
func (p *pyParser) items(close byte) ([]any, bool) {
	out := []any{}
	for {
		if p.peek() == close {
			p.i++
			return out, true
		}
		v, ok := p.expr()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		switch p.peek() {
		case ',':
			p.i++
		case close:
		default:
			return nil, false
		}
	}
}

// dict reads a dict display; keys become strings as JSON writes them. A set
// display ({1, 2}) is refused: JSON has no sets.
func (p *pyParser) dict() (any, bool) {
	out := map[string]any{}
	for {
		if p.peek() == '}' {
			p.i++
			return out, true
		}
		k, ok := p.expr()
		if !ok || p.peek() != ':' {
			return nil, false
		}
		p.i++
		v, ok := p.expr()
		if !ok {
			return nil, false
		}
		key, ok := jsonKey(k)
		if !ok {
			return nil, false
		}
		out[key] = v
		switch p.peek() {
		case ',':
			p.i++
		case '}':
		default:
			return nil, false
		}
	}
}

// jsonKey is the key Python's json module writes for a dict key.
func jsonKey(k any) (string, bool) {
	switch x := k.(type) {
	case string:
		return x, true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "null", true
	}
	return "", false
}

// strings reads one or more adjacent string literals (Python joins them).
func (p *pyParser) strings(prefix string) (any, bool) {
	var b strings.Builder
	for first := true; ; first = false {
		if !first {
			c := p.peek()
			pre := ""
			if isIdentStart(c) {
				j := p.i
				for j < len(p.s) && isIdentChar(p.s[j]) {
					j++
				}
				if j-p.i > 2 || j == len(p.s) || (p.s[j] != '"' && p.s[j] != '\'') {
					return b.String(), true
				}
				pre = strings.ToLower(p.s[p.i:j])
				p.i = j
			} else if c != '"' && c != '\'' {
				return b.String(), true
			}
			prefix = pre
		}
		switch prefix {
		case "", "u", "r":
		default:
			return nil, false // bytes and f-strings are not plain text
		}
		s, ok := p.quoted(prefix == "r")
		if !ok {
			return nil, false
		}
		b.WriteString(s)
	}
}

// quoted reads one '...', "...", ”'...”' or """...""" literal.
func (p *pyParser) quoted(raw bool) (string, bool) {
	q := p.s[p.i]
	delim := string(q)
	if strings.HasPrefix(p.s[p.i:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	p.i += len(delim)
	var b strings.Builder
	for p.i < len(p.s) {
		if strings.HasPrefix(p.s[p.i:], delim) {
			p.i += len(delim)
			return b.String(), true
		}
		c := p.s[p.i]
		if c == '\n' && len(delim) == 1 {
			return "", false
		}
		if c != '\\' {
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteRune(r)
			p.i += size
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", false
		}
		if raw {
			b.WriteString(p.s[p.i : p.i+2])
			p.i += 2
			continue
		}
		if !p.escape(&b) {
			return "", false
		}
	}
	return "", false
}

// escape decodes one backslash escape at p.i; an unknown one keeps the
// backslash, as Python does.
func (p *pyParser) escape(b *strings.Builder) bool {
	e := p.s[p.i+1]
	simple := map[byte]string{'\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v", '\n': ""}
	if s, ok := simple[e]; ok {
		b.WriteString(s)
		p.i += 2
		return true
	}
	hex := func(n int) bool {
		if p.i+2+n > len(p.s) {
			return false
		}
		v, err := strconv.ParseUint(p.s[p.i+2:p.i+2+n], 16, 32)
		if err != nil || v > utf8.MaxRune {
			return false
		}
		b.WriteRune(rune(v))
		p.i += 2 + n
		return true
	}
	switch {
	case e == 'x':
		return hex(2)
	case e == 'u':
		return hex(4)
	case e == 'U':
		return hex(8)
	case e == 'N':
		return false // named characters: not worth a table here
	case e >= '0' && e <= '7':
		j := p.i + 1
		for j < len(p.s) && j < p.i+4 && p.s[j] >= '0' && p.s[j] <= '7' {
			j++
		}
		v, _ := strconv.ParseUint(p.s[p.i+1:j], 8, 32)
		b.WriteRune(rune(v))
		p.i = j
		return true
	}
	b.WriteByte('\\')
	p.i++
	return true
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
