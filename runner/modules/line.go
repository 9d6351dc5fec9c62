package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	register("line", []string{"path", "line", "regexp", "state", "create", "mode"}, []string{"path"}, newLine)
}

// lineModule keeps one line of a text file present or absent.
type lineModule struct {
	path   string
	line   string
	re     *regexp.Regexp
	state  string
	create bool
	attrs  attrs

	cur     executor.FileInfo
	planned []byte // new content, nil when only attributes change
	become  bool
	// dest is the file written: path, or the file a link at path leads
	// to (a line is edited through links, as sed --follow-symlinks and
	// Ansible's lineinfile do, never by putting a file in the link's place).
	dest string
}

func newLine(a *argReader) (Module, error) {
	m := &lineModule{
		path:   a.str("path", ""),
		line:   a.str("line", ""),
		state:  a.presence(),
		create: a.boolean("create", false),
		attrs:  readAttrs(a, false),
	}
	if expr := a.str("regexp", ""); expr != "" {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("line: argument regexp: %w", err)
		}
		m.re = re
	}
	if a.err != nil {
		return nil, a.err
	}
	if !strings.HasPrefix(m.path, "/") {
		return nil, fmt.Errorf("line: argument path: %q is not an absolute path", m.path)
	}
	if strings.Contains(m.line, "\n") {
		return nil, fmt.Errorf("line: argument line: must be a single line")
	}
	if m.state == "present" && !a.has("line") {
		return nil, fmt.Errorf("line: argument line: required with state present")
	}
	if m.state == "present" && m.re != nil && !m.re.MatchString(m.line) {
		// The line would replace a match of the regexp and then not match
		// it itself: every run would edit the file again.
		return nil, fmt.Errorf("line: argument regexp: %q does not match line %q, so the task would never settle", m.re, m.line)
	}
	if m.state == "absent" && !a.has("line") && m.re == nil {
		return nil, fmt.Errorf("line: argument line or regexp: one is required with state absent")
	}
	return m, nil
}

// readScript prints "file MODE OWNER GROUP" and the content, "missing", or
// "other" in one round trip, so a no-op Plan costs one Run. A link at $p
// is followed: first "link", its own target and the file it leads to
// (readlink -f) on lines of their own, then the state of that file
// ("dangling" when it cannot be resolved); a name holding a newline is
// "other", never guessed at. readlink -f runs only on what the kernel
// resolves (the path itself, or the folder a dangling link leads into,
// found by following its last links by hand, 40 at most as the kernel
// does): coreutils' readlink -f never returns on some loops (d -> b,
// b -> d/e).
const lineReadScript = `nl='
'
if [ -L "$p" ]; then
  l=$(readlink -- "$p"; echo x); l=${l%x}; l=${l%"$nl"}
  q=$p n=0
  while [ -L "$q" ] && [ ! -e "$q" ] && [ $n -lt 40 ]; do
    t=$(readlink -- "$q"; echo x); t=${t%x}; t=${t%"$nl"}
    case $t in /*) q=$t;; *) q=${q%/*}/$t;; esac
    n=$((n+1))
  done
  d=${q%/*}; d=${d:-/}
  if [ -e "$q" ]; then
    p=$(readlink -f -- "$q" && echo x) && p=${p%x} && p=${p%"$nl"} || p=
  elif [ ! -L "$q" ] && [ -d "$d" ]; then
    p=$(readlink -f -- "$d" && echo x) && p=${p%x} && p=${p%"$nl"} && p=${p%/}/${q##*/} || p=
  else
    p=
  fi
  case "$l$p" in *"$nl"*) echo other; exit 0;; esac
  printf 'link\n%s\n%s\n' "$l" "$p"
fi
if [ -z "$p" ]; then echo dangling; elif [ -f "$p" ]; then stat -c 'file %a %U %G' -- "$p" && cat -- "$p"; elif [ -e "$p" ]; then echo other; else echo missing; fi`

func (m *lineModule) Plan(ctx context.Context, t *Target) (Change, error) {
	fi, content, err := m.read(ctx, t)
	if err != nil {
		return Change{}, err
	}
	m.cur, m.become = fi, t.Become
	if !fi.Exists {
		if m.state == "absent" {
			return Change{}, nil
		}
		if !m.create {
			return Change{}, fmt.Errorf("line %s: file does not exist (set create: true to create it)", m.path)
		}
		if err := needParent(ctx, t, m.dest); err != nil {
			return Change{}, fmt.Errorf("line %s: %w", m.path, err)
		}
	}
	next := editLines(content, m.line, m.re, m.state)
	var c Change
	if !fi.Exists || next != content {
		m.planned = []byte(next)
		c.Changed = true
		verb := "edit "
		if !fi.Exists {
			verb = "create "
		}
		c.Summary = []string{verb + m.path}
		c.Diff = fileDiff(m.path, []byte(content), m.planned, false)
	}
	if fi.Exists {
		if fixes := m.attrs.fixes(m.path, fi); len(fixes) > 0 {
			c.Changed = true
			c.Summary = append(c.Summary, fixes...)
		}
	}
	if c.Changed {
		c.Predict = m.predict
	}
	return c, nil
}

// read returns the file's state and content: from check mode's prediction
// where there is one, else in one round trip. It sets m.dest.
func (m *lineModule) read(ctx context.Context, t *Target) (executor.FileInfo, string, error) {
	m.dest = m.path
	if t.State != nil {
		fi, content, ok, err := m.predicted(ctx, t, m.path)
		if ok || err != nil {
			return fi, content, err
		}
	}
	res, err := runOK(ctx, t, "line "+m.path, executor.Command{Script: "p=" + quote(m.path) + "\n" + lineReadScript})
	if err != nil {
		return executor.FileInfo{}, "", err
	}
	out := string(res.Stdout)
	if rest, isLink := strings.CutPrefix(out, "link\n"); isLink {
		var hop, dest string
		hop, rest, _ = strings.Cut(rest, "\n")
		dest, out, _ = strings.Cut(rest, "\n")
		if fi, content, ok, err := m.throughLink(ctx, t, hop, dest); ok || err != nil {
			return fi, content, err
		}
		m.dest = dest
	}
	fi, content, err := parseLineRead(out)
	if err != nil {
		return fi, "", fmt.Errorf("line %s: %w", m.path, err)
	}
	if !fi.Exists && t.State != nil {
		if why := t.State.State.Touched(hoststate.Packages); why != "" {
			return fi, "", fmt.Errorf("line %s: %w", m.path, &hoststate.UnknownError{What: m.path, Because: "the host has no " + m.path + " now, and " + why + ", which may create it"})
		}
	}
	return fi, content, nil
}

// predicted is check mode's answer for the file at p, when it has one.
func (m *lineModule) predicted(ctx context.Context, t *Target, p string) (executor.FileInfo, string, bool, error) {
	fi, content, ok, err := t.State.Text(ctx, p, t.Become)
	if err != nil {
		return fi, "", true, fmt.Errorf("line %s: %w", m.path, err)
	}
	if !ok {
		return fi, "", false, nil
	}
	if fi.Exists && fi.IsLink {
		// The read script follows links; the prediction does not.
		return fi, "", true, fmt.Errorf("line %s: %w", m.path, &hoststate.UnknownError{What: m.path, Because: "a task before makes " + p + " a link, which check mode does not follow"})
	}
	if fi.Exists && fi.IsDir {
		return fi, "", true, fmt.Errorf("line %s: not a regular file", m.path)
	}
	m.dest = p
	return fi, string(content), true, nil
}

// throughLink handles a link the host has at m.path, leading (hop: its own
// target) to dest, "" when that cannot be resolved. In check mode the file
// behind the link is read through the prediction: ok is true when that
// answered.
func (m *lineModule) throughLink(ctx context.Context, t *Target, hop, dest string) (executor.FileInfo, string, bool, error) {
	changed := t.State != nil && t.State.State.Changed() != ""
	first := hop
	if !path.IsAbs(first) {
		first = path.Join(path.Dir(m.path), first)
	}
	switch {
	case changed && (dest == "" || path.Clean(first) != dest):
		// More links on the way, which the prediction does not follow.
		return executor.FileInfo{}, "", true, fmt.Errorf("line %s: %w", m.path, &hoststate.UnknownError{What: m.path, Because: "it is a link to " + hop + ", through more links than check mode follows, after a task before changes the host"})
	case dest == "":
		return executor.FileInfo{}, "", true, fmt.Errorf("line %s: a link to %s, which does not resolve", m.path, hop)
	case changed:
		return m.predicted(ctx, t, dest)
	}
	return executor.FileInfo{}, "", false, nil
}

// uploadOptions are those Apply writes the edited file with.
func (m *lineModule) uploadOptions() executor.UploadOptions {
	o := executor.UploadOptions{Mode: m.attrs.mode, Become: m.become}
	if !m.attrs.hasMode {
		o.Mode = 0o644
		if m.cur.Exists {
			o.Mode = m.cur.Mode
		}
	}
	if m.cur.Exists {
		o.Owner, o.Group = m.cur.Owner, m.cur.Group
	}
	return o
}

// predict records the file as Apply leaves it.
func (m *lineModule) predict(st *hoststate.State) {
	if m.planned != nil {
		st.Set(m.dest, fileEntry(m.planned, m.uploadOptions()))
		return
	}
	// Only the mode changes; the content is what it is.
	e := hoststate.Entry{Kind: hoststate.File, Backed: true, Mode: m.attrs.mode, HasMode: true, Owner: m.cur.Owner, Group: m.cur.Group}
	if cur, ok := st.Lookup(m.dest); ok && cur.Kind == hoststate.File {
		e.Content, e.Backed = cur.Content, cur.Backed
	}
	st.Set(m.dest, e)
}

// Writes is the path the task writes, and the file behind it when it was
// read to be a link.
func (m *lineModule) Writes() []string {
	if m.dest != "" && m.dest != m.path {
		return []string{m.path, m.dest}
	}
	return []string{m.path}
}

func parseLineRead(out string) (executor.FileInfo, string, error) {
	head, content, _ := strings.Cut(out, "\n")
	f := strings.Fields(head)
	switch {
	case len(f) == 1 && f[0] == "missing":
		return executor.FileInfo{}, "", nil
	case len(f) == 1 && f[0] == "other":
		return executor.FileInfo{}, "", fmt.Errorf("not a regular file")
	case len(f) == 4 && f[0] == "file":
		var mode uint32
		if _, err := fmt.Sscanf(f[1], "%o", &mode); err != nil {
			return executor.FileInfo{}, "", fmt.Errorf("unexpected mode %q", f[1])
		}
		return executor.FileInfo{Exists: true, Mode: executor.ModeFromBits(mode), Owner: f[2], Group: f[3]}, content, nil
	}
	return executor.FileInfo{}, "", fmt.Errorf("unexpected output %q", head)
}

// editLines applies the task to content. With a regexp, present replaces
// the last matching line (appending when none matches) and absent removes
// every match; without one, the line itself is looked for.
func editLines(content, line string, re *regexp.Regexp, state string) string {
	lines := strings.SplitAfter(content, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	match := func(l string) bool {
		l = strings.TrimSuffix(l, "\n")
		if re != nil {
			return re.MatchString(l)
		}
		return l == line
	}
	if state == "absent" {
		kept := lines[:0:0]
		for _, l := range lines {
			if !match(l) {
				kept = append(kept, l)
			}
		}
		return strings.Join(kept, "")
	}
	last := -1
	for i, l := range lines {
		if match(l) {
			last = i
		}
	}
	if last < 0 && re != nil {
		// Nothing matches the regexp but the line is there: it stays, or
		// the file would grow by one line every run (as Ansible's
		// lineinfile does not either).
		for _, l := range lines {
			if strings.TrimSuffix(l, "\n") == line {
				return content
			}
		}
	}
	if last >= 0 {
		nl := ""
		if strings.HasSuffix(lines[last], "\n") {
			nl = "\n"
		}
		lines[last] = line + nl
		return strings.Join(lines, "")
	}
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	return content + line + "\n"
}

// Apply uploads the edited file (or fixes its mode) and verifies it.
func (m *lineModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if m.planned != nil {
		o := m.uploadOptions()
		o.Become = t.Become
		if err := t.Exec.Upload(ctx, m.dest, m.planned, o); err != nil {
			return c, fmt.Errorf("line %s: %w", m.path, err)
		}
	} else if script := m.attrs.fixScript(m.dest, m.cur); script != "" {
		if _, err := runOK(ctx, t, "line "+m.path, executor.Command{Script: "set -e\n" + script}); err != nil {
			return c, err
		}
	}
	return c, verifyByPlan(ctx, m, t, "line "+m.path)
}
