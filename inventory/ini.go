package inventory

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// iniSecretsVar, in [all:vars], names the secrets file of an INI inventory
// (the YAML format's `secrets:`).
const iniSecretsVar = "ferry_secrets"

// parseINI reads an Ansible INI inventory into b:
//
//	web-01 ansible_host=198.18.0.21      # before any section: group "ungrouped"
//	[web]
//	web-02 ansible_host=198.18.0.22 http_port=8080
//	[web:vars]
//	site_name=www.ferry.test
//	[frontend:children]
//	web
//
// [all:vars] may set ferry_secrets=FILE, the secrets file (see Load).
// Values are typed like YAML scalars (8080 is a number, true a boolean)
// unless quoted, which keeps them strings.
func parseINI(b *builder, data []byte) {
	b.addressFromName = true
	const (
		hosts = iota
		vars
		children
	)
	kind := hosts
	var gd *groupDecl
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		at := ref{file: b.file, line: lineNo}
		if line[0] == '[' {
			gd, kind = b.iniSection(line, at)
			continue
		}
		if gd == nil && kind == hosts {
			// A host before any section is in no group: Ansible's "ungrouped".
			gd = b.group("ungrouped", b.file, lineNo)
		}
		if gd == nil {
			continue // the section header was invalid and already reported
		}
		switch kind {
		case hosts:
			b.iniHost(gd, line, at)
		case vars:
			key, val, ok := strings.Cut(line, "=")
			key = strings.TrimSpace(key)
			if !ok || key == "" {
				b.add(b.file, lineNo, "expected key=value in [%s:vars], found %q", gd.g.Name, line)
				continue
			}
			value, err := iniValue(strings.TrimSpace(val))
			if err != nil {
				b.add(b.file, lineNo, "%s: %v", key, err)
				continue
			}
			if key == iniSecretsVar {
				if gd.g.Name != "all" {
					b.add(b.file, lineNo, "%s belongs in [all:vars]", key)
				} else {
					b.secrets = ref{name: scalarString(value), file: b.file, line: lineNo}
				}
				continue
			}
			b.setVars(gd.g.Vars, &gd.conn, nil, []varEntry{{key: key, value: value, at: at}})
		case children:
			name := strings.TrimSpace(stripComment(line))
			if b.checkName("group", name, b.file, lineNo) && !containsRef(gd.children, name) {
				gd.children = append(gd.children, ref{name: name, file: b.file, line: lineNo})
			}
		}
	}
	if err := sc.Err(); err != nil {
		b.add(b.file, lineNo+1, "cannot read: %v", err)
	}
	b.pruneUngrouped()
}

// pruneUngrouped keeps in "ungrouped" only hosts no other group lists, as
// Ansible does, and drops the group when that leaves it empty and it has no
// section of its own.
func (b *builder) pruneUngrouped() {
	ug := b.groups["ungrouped"]
	if ug == nil {
		return
	}
	grouped := map[string]bool{}
	for _, name := range b.groupSeq {
		if name != "ungrouped" && name != "all" {
			for _, h := range b.groups[name].g.Hosts {
				grouped[h] = true
			}
		}
	}
	kept := ug.g.Hosts[:0]
	for _, h := range ug.g.Hosts {
		if !grouped[h] {
			kept = append(kept, h)
		}
	}
	ug.g.Hosts = kept
	if len(kept) == 0 && !b.ungroupedSection && len(ug.children) == 0 && len(ug.g.Vars) == 0 {
		delete(b.groups, "ungrouped")
		delete(b.inv.Groups, "ungrouped")
		b.groupSeq = slices.DeleteFunc(b.groupSeq, func(n string) bool { return n == "ungrouped" })
	}
}

// iniSection reads "[name]", "[name:vars]" or "[name:children]". It returns
// a nil group after reporting an invalid header, so that the section's lines
// are skipped rather than misread.
func (b *builder) iniSection(line string, at ref) (*groupDecl, int) {
	end := strings.IndexByte(line, ']')
	if end < 0 || strings.TrimSpace(stripComment(line[end+1:])) != "" {
		b.add(at.file, at.line, "invalid section header %q", line)
		return nil, -1
	}
	name, suffix, _ := strings.Cut(strings.TrimSpace(line[1:end]), ":")
	kind := 0
	switch suffix {
	case "":
	case "vars":
		kind = 1
	case "children":
		kind = 2
	default:
		b.add(at.file, at.line, "unknown section type %q in %q%s", suffix, line, suggest(suffix, []string{"vars", "children"}))
		return nil, -1
	}
	if !b.checkName("group", name, at.file, at.line) {
		return nil, -1
	}
	if name == "ungrouped" {
		b.ungroupedSection = true
	}
	return b.group(name, at.file, at.line), kind
}

// iniHost reads "name [host:port] key=value ...".
func (b *builder) iniHost(gd *groupDecl, line string, at ref) {
	fields, err := splitShell(line)
	if err != nil {
		b.add(at.file, at.line, "%v", err)
		return
	}
	if len(fields) == 0 {
		return
	}
	name := fields[0].text
	var port string
	if i := strings.LastIndexByte(name, ':'); i > 0 && !strings.Contains(name, "[") {
		name, port = name[:i], name[i+1:]
	}
	if strings.ContainsAny(name, "[]") {
		b.add(at.file, at.line, "host ranges like %q are not supported; list the hosts", name)
		return
	}
	if !b.checkName("host", name, at.file, at.line) {
		return
	}
	hd := b.addHost(gd, name, at)
	if port != "" {
		if err := setConn(&hd.conn, "port", port, at); err != nil {
			b.add(at.file, at.line, "host %q: port: %v", name, err)
		}
	}
	var entries []varEntry
	for _, f := range fields[1:] {
		key, val, ok := strings.Cut(f.text, "=")
		if !ok || key == "" {
			b.add(at.file, at.line, "host %q: expected key=value, found %q", name, f.text)
			continue
		}
		var value any = val
		if !f.quoted {
			if value, err = iniValue(val); err != nil {
				b.add(at.file, at.line, "%s: %v", key, err)
				continue
			}
		}
		entries = append(entries, varEntry{key: key, value: value, at: at})
	}
	b.setVars(hd.h.Vars, &hd.conn, hd, entries)
}

// iniValue types an unquoted value as a YAML scalar; a quoted one stays text.
func iniValue(s string) (any, error) {
	s = strings.TrimSpace(stripComment(s))
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], nil
	}
	n := yaml.Node{Kind: yaml.ScalarNode, Value: s}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid value %q", s)
	}
	return v, nil
}

// stripComment drops a " #..." or " ;..." tail outside quotes.
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case (c == '#' || c == ';') && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return strings.TrimRight(s[:i], " \t")
		}
	}
	return s
}

// word is one shell-split field; quoted tells a value that was written in
// quotes, which keeps it a string.
type word struct {
	text   string
	quoted bool
}

// splitShell splits a host line like Python's shlex (which Ansible uses):
// whitespace separates, quotes group, backslash escapes outside single
// quotes, and "#" at the start of a word begins a comment.
func splitShell(s string) ([]word, error) {
	var out []word
	var cur strings.Builder
	inWord, quoted := false, false
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
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(c)
			}
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, word{cur.String(), quoted})
				cur.Reset()
				inWord, quoted = false, false
			}
		case c == '#' && !inWord:
			return out, nil
		case c == '\'' || c == '"':
			quote, inWord, quoted = c, true, true
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
		out = append(out, word{cur.String(), quoted})
	}
	return out, nil
}

func containsRef(refs []ref, name string) bool {
	for _, r := range refs {
		if r.name == name {
			return true
		}
	}
	return false
}
