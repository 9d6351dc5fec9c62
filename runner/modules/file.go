package modules

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	register("file", []string{"path", "state", "src", "mode", "owner", "group"}, []string{"path"}, newFile)
}

// fileModule makes a path a file, directory, link or nothing.
type fileModule struct {
	path  string
	state string
	src   string
	attrs attrs

	script string // what Plan decided Apply runs
	cur    executor.FileInfo
	become bool
}

func newFile(a *argReader) (Module, error) {
	m := &fileModule{
		path:  a.str("path", ""),
		state: a.oneOf("state", "file", "file", "directory", "absent", "link", "touch"),
		src:   a.str("src", ""),
		attrs: readAttrs(a, true),
	}
	if a.err != nil {
		return nil, a.err
	}
	if !strings.HasPrefix(m.path, "/") {
		return nil, fmt.Errorf("file: argument path: %q is not an absolute path", m.path)
	}
	if m.path == "/" || strings.Trim(m.path, "/") == "" {
		return nil, fmt.Errorf("file: argument path: refusing to manage /")
	}
	// The module manages the path itself: a trailing slash would make the
	// shell follow a symlink (state absent emptying the directory a link
	// points to), so it is dropped; a link is then seen as a link.
	m.path = path.Clean(m.path)
	if m.state == "link" && m.src == "" {
		return nil, fmt.Errorf("file: argument src: required with state link")
	}
	if m.state == "link" && path.Clean(m.src) == path.Clean(m.path) {
		return nil, fmt.Errorf("file: argument src: a link to itself")
	}
	if m.state != "link" && m.src != "" {
		return nil, fmt.Errorf("file: argument src: only valid with state link")
	}
	return m, nil
}

// Plan costs one Stat.
func (m *fileModule) Plan(ctx context.Context, t *Target) (Change, error) {
	fi, err := stat(ctx, t, m.path)
	if err != nil {
		return Change{}, fmt.Errorf("file %s: %w", m.path, err)
	}
	summary, script, err := m.plan(fi)
	if err != nil {
		return Change{}, err
	}
	if creates := !fi.Exists && m.state == "touch" || m.state == "link" && len(summary) > 0 && (!fi.IsLink || fi.LinkTo != m.src); creates {
		if err := needParent(ctx, t, m.path); err != nil {
			return Change{}, fmt.Errorf("file %s: %w", m.path, err)
		}
	}
	if m.state == "directory" && !fi.Exists {
		if err := needDirChain(ctx, t, m.path); err != nil {
			return Change{}, fmt.Errorf("file %s: %w", m.path, err)
		}
	}
	m.script, m.cur, m.become = script, fi, t.Become
	c := Change{Changed: len(summary) > 0, Summary: summary}
	if c.Changed {
		c.Predict = m.predict
	}
	return c, nil
}

// predict records the path as the planned script leaves it.
func (m *fileModule) predict(st *hoststate.State) {
	at := m.attrs
	switch {
	case m.state == "absent":
		st.Set(m.path, hoststate.Entry{Kind: hoststate.Absent, Fresh: true})
	case m.state == "link" && (!m.cur.IsLink || m.cur.LinkTo != m.src):
		st.Set(m.path, hoststate.Entry{Kind: hoststate.Link, LinkTo: m.src, Owner: at.owner, Group: at.group, Become: m.become, Fresh: true})
	case m.state == "touch" && !m.cur.Exists:
		st.Set(m.path, hoststate.Entry{Kind: hoststate.File, Content: []byte{}, Mode: at.mode, HasMode: at.hasMode,
			Owner: at.owner, Group: at.group, Become: m.become, Fresh: true})
	case m.state == "directory" && !m.cur.Exists:
		st.Ensure(m.path, m.become)
		st.Chattr(m.path, hoststate.Dir, at.mode, at.hasMode, at.owner, at.group)
	default:
		k := hoststate.File
		switch {
		case m.cur.IsLink:
			k = hoststate.Link
		case m.cur.IsDir:
			k = hoststate.Dir
		}
		st.Chattr(m.path, k, at.mode, at.hasMode && k != hoststate.Link, at.owner, at.group)
	}
}

// Writes is the path the task writes (and, for absent, all below it).
func (m *fileModule) Writes() []string { return []string{m.path} }

// MakesParents: state directory is `mkdir -p`.
func (m *fileModule) MakesParents() bool { return m.state == "directory" }

// plan decides from one Stat what to do: summary lines and the script.
func (m *fileModule) plan(fi executor.FileInfo) ([]string, string, error) {
	p := quote(m.path)
	var sum []string
	var b strings.Builder
	fresh := false // the path is created here, so every attribute must be set
	create := func(summary, script string) {
		sum = append(sum, summary)
		b.WriteString(script)
		fresh = true
	}
	switch m.state {
	case "absent":
		if !fi.Exists {
			return nil, "", nil
		}
		what := "remove "
		if fi.IsDir {
			what = "remove directory (recursively) "
		}
		return []string{what + m.path}, "rm -rf -- " + p + "\n", nil
	case "file":
		if !fi.Exists {
			return nil, "", fmt.Errorf("file %s: does not exist (state file only fixes attributes; use touch or copy to create)", m.path)
		}
		if fi.IsDir || fi.IsLink {
			return nil, "", fmt.Errorf("file %s: is not a regular file", m.path)
		}
	case "touch":
		if fi.IsDir || fi.IsLink {
			return nil, "", fmt.Errorf("file %s: is not a regular file", m.path)
		}
		if !fi.Exists {
			create("create empty file "+m.path, ": >> "+p+"\n")
		}
	case "directory":
		if fi.Exists && !fi.IsDir {
			return nil, "", fmt.Errorf("file %s: exists and is not a directory", m.path)
		}
		if !fi.Exists {
			create("create directory "+m.path, "mkdir -p -- "+p+"\n")
		}
	case "link":
		if fi.IsDir && !fi.IsLink {
			return nil, "", fmt.Errorf("file %s: is a directory, not replacing it with a link", m.path)
		}
		if !fi.IsLink || fi.LinkTo != m.src {
			create("link "+m.path+" -> "+m.src, m.linkScript())
		}
	}
	if fresh {
		sum[len(sum)-1] += m.attrs.describe()
		b.WriteString(m.attrs.setScript(m.path, m.state == "link"))
	} else {
		sum = append(sum, m.attrs.fixes(m.path, fi)...)
		b.WriteString(m.attrs.fixScript(m.path, fi))
	}
	return sum, b.String(), nil
}

// linkScript makes the link beside the path and renames it over the path,
// in one step (mv -T: a link to a directory is replaced, not entered).
// ln -sf in place refused when the path and the source already resolve to
// the same file (a -> d/f with d/f -> a), so the real run failed where
// check mode planned the change.
func (m *fileModule) linkScript() string {
	p := quote(m.path)
	tmp := quote(path.Join(path.Dir(m.path), ".ferry-ln."+path.Base(m.path)))
	return "rm -f -- " + tmp + "\nln -s -- " + quote(m.src) + " " + tmp + "\n" +
		// mv too refuses to put a link over the very file it leads to;
		// that file is being replaced anyway, so it goes first.
		"if [ ! -L " + p + " ] && [ " + tmp + " -ef " + p + " ]; then rm -f -- " + p + "; fi\n" +
		"mv -fT -- " + tmp + " " + p + " || { rm -f -- " + tmp + "; exit 1; }\n"
}

// Apply runs the planned script and verifies with one Stat.
func (m *fileModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if _, err := runOK(ctx, t, "file "+m.path, executor.Command{Script: "set -e\n" + m.script}); err != nil {
		return c, err
	}
	fi, err := t.Exec.Stat(ctx, m.path, t.Become)
	if err != nil {
		return c, fmt.Errorf("file %s: verify: %w", m.path, err)
	}
	left, _, err := m.plan(fi)
	if err != nil {
		return c, fmt.Errorf("file %s: verify: %w", m.path, err)
	}
	if len(left) > 0 {
		return c, fmt.Errorf("file %s: verify: still needs %v", m.path, left)
	}
	return c, nil
}
