package inventory

import (
	"strconv"
	"strings"
)

// number reads a Python int or float literal. A following letter (as in
// "5a" or the complex "5j") makes the whole value text.
func (p *pyParser) number() (any, bool) {
	s := p.s[p.i:]
	end := 0
	for end < len(s) && (isIdentChar(s[end]) || s[end] == '.' ||
		((s[end] == '+' || s[end] == '-') && end > 0 && (s[end-1] == 'e' || s[end-1] == 'E') && !isPrefixedInt(s[:end]))) {
		end++
	}
	tok := s[:end]
	p.i += end
	if v, ok := pyInt(tok); ok {
		return v, true
	}
	if v, ok := pyFloat(tok); ok {
		return v, true
	}
	return nil, false
}

func isPrefixedInt(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "0x") || strings.HasPrefix(l, "0o") || strings.HasPrefix(l, "0b")
}

// pyInt accepts Python 3 int literals: 10, 1_000, 0x1f, 0o17, 0b101, and 0
// or 00 but not 0777.
func pyInt(tok string) (int, bool) {
	if !underscoresOK(tok) {
		return 0, false
	}
	clean := strings.ReplaceAll(tok, "_", "")
	base := 10
	digits := clean
	if len(clean) > 2 && clean[0] == '0' {
		switch clean[1] {
		case 'x', 'X':
			base, digits = 16, clean[2:]
		case 'o', 'O':
			base, digits = 8, clean[2:]
		case 'b', 'B':
			base, digits = 2, clean[2:]
		}
	}
	if base == 10 && len(digits) > 1 && digits[0] == '0' && strings.Trim(digits, "0") != "" {
		return 0, false // 0777 is a syntax error in Python 3
	}
	n, err := strconv.ParseInt(digits, base, 64)
	if err != nil || digits == "" {
		return 0, false
	}
	return int(n), true
}

// underscoresOK: Python allows one underscore between digits only (and
// after a base prefix).
func underscoresOK(tok string) bool {
	if strings.HasSuffix(tok, "_") || strings.Contains(tok, "__") || strings.HasPrefix(tok, "_") {
		return false
	}
	for i := 1; i < len(tok); i++ {
		if tok[i] == '_' && !isAlnum(tok[i-1]) {
			return false
		}
		if tok[i-1] == '_' && !isAlnum(tok[i]) {
			return false
		}
	}
	return true
}

// pyFloat accepts 1.5, .5, 5., 1e3, 1_0.5e-2; not inf or nan (names).
func pyFloat(tok string) (float64, bool) {
	if tok == "" || !underscoresOK(strings.NewReplacer(".", "0", "e", "0", "E", "0", "+", "0", "-", "0").Replace(tok)) {
		return 0, false
	}
	for _, c := range tok {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' || c == '_') {
			return 0, false
		}
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(tok), "e")
	if mant == "" || mant == "." || strings.Count(mant, ".") > 1 || strings.ContainsAny(mant, "+-") {
		return 0, false
	}
	if hasExp {
		e := strings.TrimLeft(exp, "+-")
		if e == "" || len(exp)-len(e) > 1 || strings.ContainsAny(e, "+-.") {
			return 0, false
		}
	} else if !strings.Contains(mant, ".") {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(tok, "_", ""), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true // Python too overflows to inf
		}
		return 0, false
	}
	return f, true
}
