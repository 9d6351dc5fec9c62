package inventory

import (
	"bufio"
	"bytes"
	"regexp"
	"slices"
	"strings"

	"github.com/ferry-deploy/ferry/internal/shell"
)

// iniSecretsVar, in [all:vars] (or all's vars in Ansible's other formats),
// names the secrets file of an Ansible inventory (ferry's `secrets:`).
const iniSecretsVar = "ferry_secrets"

// takeSecretsVar moves ferry_secrets out of all's variables in Ansible's
// YAML and JSON formats, where the parser sets it like any variable.
func (b *builder) takeSecretsVar() {
	all := b.groups["all"]
	if e, ok := all.inline[iniSecretsVar]; ok {
		b.secrets = ref{name: scalarString(e.value), file: e.at.file, line: e.at.line}
		delete(all.inline, iniSecretsVar)
		delete(all.g.Vars, iniSecretsVar)
	}
	for _, name := range b.groupSeq {
		if e, ok := b.groups[name].inline[iniSecretsVar]; ok && name != "all" {
			b.add(e.at.file, e.at.line, "%s belongs in the vars of group all", iniSecretsVar)
		}
	}
}

// parseINI reads an Ansible INI inventory into b, as ansible-core 2.14's
// INI plugin does:
//
//	web-01 ansible_host=198.18.0.21      # before any section: group "ungrouped"
//	[web]
//	web-[02:09] http_port=8080           # ranges: [01:09], [a:f], [0:10:2]
//	[web:vars]
//	site_name=www.ferry.test
//	[frontend:children]
//	web
//
// Values are typed like Python literals (Ansible runs ast.literal_eval on
// them): 5 and "5" on a host line are the int 5, [1, 2] a list, True a
// boolean, while true, yes and 0777 stay strings. [all:vars] may set
// ferry_secrets=FILE, the secrets file (see Load).
func parseINI(b *builder, data []byte) {
	b.addressFromName = true
	b.ansible = true
	p := iniParser{b: b, pendingVars: map[string]int{}, defined: map[string]bool{"all": true, "ungrouped": true}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
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
		p.line(line, ref{file: b.file, line: lineNo})
	}
	if err := sc.Err(); err != nil {
		b.add(b.file, lineNo+1, "cannot read: %v", err)
	}
	p.end()
}

const (
	iniHosts = iota
	iniVars
	iniChildren
)

// iniParser is the state of one INI file being read.
type iniParser struct {
	b    *builder
	kind int
	gd   *groupDecl // nil after an invalid section header: its lines are skipped
	// name of the current section's group ("ungrouped" before any).
	name string
	// pendingVars are [g:vars] sections of groups not (yet) defined, by line:
	// Ansible refuses vars for a group no [g] or [g:children] defines.
	pendingVars map[string]int
	// defined groups have a [g] or [g:children] section.
	defined map[string]bool
}

var (
	iniSectionRe   = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)
	iniGroupNameRe = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

func (p *iniParser) line(line string, at ref) {
	b := p.b
	if m := iniSectionRe.FindStringSubmatch(line); m != nil {
		p.section(m[1], m[2], line, at)
		return
	}
	if line[0] == '[' && (p.kind != iniHosts || strings.HasSuffix(line, "]") || !validBracketHost(line)) {
		b.add(at.file, at.line, "invalid section header %q", line)
		p.gd = nil
		return
	}
	if p.gd == nil {
		if p.name != "" {
			return // the section header was invalid and already reported
		}
		p.name, p.gd = "ungrouped", b.group("ungrouped", b.file, at.line)
	}
	switch p.kind {
	case iniHosts:
		p.host(line, at)
	case iniVars:
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok {
			b.add(at.file, at.line, "expected key=value in [%s:vars], found %q", p.gd.g.Name, line)
			return
		}
		value := pyLiteral(strings.TrimSpace(val))
		if key == iniSecretsVar {
			if p.gd.g.Name != "all" {
				b.add(at.file, at.line, "%s belongs in [all:vars]", key)
			} else {
				b.secrets = ref{name: scalarString(value), file: at.file, line: at.line}
			}
			return
		}
		b.setVars(p.gd.scope(true), []varEntry{{key: key, value: value, at: at}})
	case iniChildren:
		m := iniGroupNameRe.FindStringSubmatch(line)
		if m == nil {
			b.add(at.file, at.line, "expected a group name in [%s:children], found %q", p.gd.g.Name, line)
			return
		}
		if !containsRef(p.gd.children, m[1]) {
			p.gd.children = append(p.gd.children, ref{name: m[1], file: at.file, line: at.line})
		}
	}
}

// validBracketHost tells a host line starting with '[' ("[2001:db8::3]:22",
// "[1:3].example.com") from a broken section header.
func validBracketHost(line string) bool {
	_, _, err := expandHostPattern(strings.Fields(line)[0])
	return err == nil
}

// section starts [name], [name:vars] or [name:children].
func (p *iniParser) section(name, suffix, line string, at ref) {
	b := p.b
	p.name, p.gd = name, nil
	switch suffix {
	case "", "hosts":
		p.kind = iniHosts
	case "vars":
		p.kind = iniVars
	case "children":
		p.kind = iniChildren
	default:
		b.add(at.file, at.line, "unknown section type %q in %q%s", suffix, line, suggest(suffix, []string{"vars", "children"}))
		return
	}
	if !b.checkName("group", name, at.file, at.line) {
		return
	}
	if name == "ungrouped" {
		b.ungroupedSection = true
	}
	if p.kind == iniVars {
		if _, pending := p.pendingVars[name]; !pending && !p.defined[name] {
			p.pendingVars[name] = at.line
		}
	} else {
		p.defined[name] = true
		delete(p.pendingVars, name)
	}
	p.gd = b.group(name, at.file, at.line)
}

// host reads "pattern [key=value ...]": a host name, an address with an
// optional :port, or a pattern with ranges; each name it expands to joins
// the section's group with the line's variables.
func (p *iniParser) host(line string, at ref) {
	b := p.b
	fields, err := splitShell(line)
	if err != nil {
		b.add(at.file, at.line, "%v", err)
		return
	}
	if len(fields) == 0 {
		return
	}
	names, port, err := expandHostPattern(fields[0])
	if err != nil {
		b.add(at.file, at.line, "%v", err)
		return
	}
	var entries []varEntry
	for _, f := range fields[1:] {
		key, val, ok := strings.Cut(f, "=")
		if !ok {
			b.add(at.file, at.line, "host %q: expected key=value, found %q", fields[0], f)
			return
		}
		entries = append(entries, varEntry{key: key, value: pyLiteral(val), at: at})
	}
	for _, name := range names {
		if !b.checkName("host", name, at.file, at.line) {
			return
		}
		_, known := b.hosts[name]
		hd := b.addHost(p.gd, name, at)
		if port > 0 && !known {
			// Ansible sets the port of a pattern only on a host's first line.
			b.setVars(hd.scope(true), []varEntry{{key: "ansible_port", value: port, at: at}})
		}
		b.setVars(hd.scope(true), entries)
	}
}

// isChild reports whether a group lists name among its children.
func (b *builder) isChild(name string) bool {
	for _, g := range b.groupSeq {
		if containsRef(b.groups[g].children, name) {
			return true
		}
	}
	return false
}

// end checks what only the whole file can tell, then fixes "ungrouped" as
// Ansible's reconcile_inventory does.
func (p *iniParser) end() {
	b := p.b
	for name, line := range p.pendingVars {
		b.add(b.file, line, "[%s:vars] for undefined group %q: define it with [%s] or [%s:children]", name, name, name, name)
	}
	for _, name := range b.groupSeq {
		for _, c := range b.groups[name].children {
			if b.groups[c.name] != nil && !p.defined[c.name] {
				b.add(c.file, c.line, "children of %q: group %q is not defined (only its vars are)", name, c.name)
			}
		}
	}
	b.fixUngrouped()
}

// fixUngrouped keeps in "ungrouped" exactly the hosts in no group but "all",
// as Ansible does, and drops the group when that leaves it empty and it has
// no section of its own.
func (b *builder) fixUngrouped() {
	grouped := map[string]bool{}
	for _, name := range b.groupSeq {
		if name != "ungrouped" && name != "all" {
			for _, h := range b.groups[name].g.Hosts {
				grouped[h] = true
			}
		}
	}
	var lone []string
	for _, h := range b.inv.Hosts {
		if !grouped[h.Name] {
			lone = append(lone, h.Name)
		}
	}
	ug := b.groups["ungrouped"]
	if ug == nil {
		if len(lone) == 0 {
			return
		}
		ug = b.group("ungrouped", b.file, 0)
	}
	ug.g.Hosts = lone
	ug.members = map[string]bool{}
	for _, h := range lone {
		ug.members[h] = true
	}
	if len(lone) == 0 && !b.ungroupedSection && len(ug.children) == 0 && len(ug.inline) == 0 && !b.isChild("ungrouped") {
		delete(b.groups, "ungrouped")
		delete(b.inv.Groups, "ungrouped")
		b.groupSeq = slices.DeleteFunc(b.groupSeq, func(n string) bool { return n == "ungrouped" })
	}
}

// splitShell splits a host line like Python's shlex.split(s, comments=True)
// (which Ansible uses): whitespace separates, quotes group, backslash
// escapes outside single quotes, and "#" outside quotes ends the line, even
// inside a word.
func splitShell(s string) ([]string, error) { return shell.SplitComments(s) }

func containsRef(refs []ref, name string) bool {
	for _, r := range refs {
		if r.name == name {
			return true
		}
	}
	return false
}
