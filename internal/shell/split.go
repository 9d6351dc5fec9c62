package shell

import (
	"fmt"
	"strings"
)

// Split splits s the way a POSIX shell splits a simple command: blanks
// (space, tab, newline) separate words, single quotes keep everything,
// double quotes keep everything but a backslash before " \ $ or `, and a
// backslash outside quotes keeps the next byte. Expansions are not
// performed; a script that needs them is run by a shell.
func Split(s string) ([]string, error) {
	return splitter{blanks: " \t\n", dqEscapes: "\"\\$`"}.split(s)
}

// SplitComments splits a line like Python's shlex.split(s, comments=True),
// which Ansible uses for INI inventory lines: as Split, except that inside
// double quotes a backslash escapes only " and \, and a "#" outside quotes
// ends the line, even in the middle of a word.
func SplitComments(s string) ([]string, error) {
	return splitter{blanks: " \t", dqEscapes: "\"\\", comments: true}.split(s)
}

// splitter is one dialect of word splitting.
type splitter struct {
	blanks    string // bytes that separate words
	dqEscapes string // bytes a backslash escapes inside double quotes
	comments  bool   // "#" outside quotes ends the input
}

func (p splitter) split(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && strings.IndexByte(p.dqEscapes, s[i+1]) >= 0:
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(c)
			}
		case strings.IndexByte(p.blanks, c) >= 0:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && p.comments:
			if inWord {
				words = append(words, cur.String())
			}
			return words, nil
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
