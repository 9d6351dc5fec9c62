package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/modspec"
)

func init() {
	// The engine renders template's src (or reads copy's src from the
	// role's files/) on the controller and hands the module content, so
	// one implementation serves both names and never reads the controller's
	// disk. Users may give template only src, so the loader is told so, while
	// the factory takes the content the engine put in its place.
	attrs := []string{"dest", "mode", "owner", "group", "validate", "backup", "secret"}
	copyArgs := append([]string{"content", "src"}, attrs...)
	cp := newSpec("copy", copyArgs, []string{"dest"}, copyArgs, []string{"dest"}, newCopy("copy"))
	cp.Files = []modspec.FileArg{{Arg: "src", Folder: modspec.Files, Into: "content"}}
	Register(cp)
	tmpl := newSpec("template", append([]string{"src"}, attrs...), []string{"src", "dest"},
		copyArgs, []string{"dest"}, newCopy("template"))
	tmpl.Files = []modspec.FileArg{{Arg: "src", Folder: modspec.Templates, Into: "content"}}
	Register(tmpl)
}

// copyModule puts content at dest.
type copyModule struct {
	dest     string
	content  []byte
	attrs    attrs
	validate string
	backup   bool
	secret   bool

	// What Plan saw, for Apply.
	cur     executor.FileInfo
	rewrite bool
	become  bool
}

func newCopy(name string) func(a *argReader) (Module, error) {
	return func(a *argReader) (Module, error) {
		m := &copyModule{
			dest:     a.str("dest", ""),
			attrs:    readAttrs(a, true),
			validate: a.str("validate", ""),
			backup:   a.boolean("backup", false),
			secret:   a.boolean("secret", false),
		}
		if !a.has("content") {
			if a.has("src") {
				return nil, fmt.Errorf("%s: argument src: not resolved to content by the engine", name)
			}
			return nil, fmt.Errorf("%s: argument content: required (or src)", name)
		}
		content, ok := a.m["content"].(string)
		if !ok {
			return nil, fmt.Errorf("%s: argument content: want a string, got %T", name, a.m["content"])
		}
		m.content = []byte(content)
		if m.dest == "" || m.dest[0] != '/' {
			return nil, fmt.Errorf("%s: argument dest: %q is not an absolute path", name, m.dest)
		}
		return m, nil
	}
}

// refuseLinkToDir fails for a destination that is a symlink to a
// directory: the file would have to replace the link (surprising) or go
// into the directory (wrong). A link to a file is replaced by the file.
func refuseLinkToDir(ctx context.Context, t *Target, dest, linkTo string) error {
	target := linkTo
	if !path.IsAbs(target) {
		target = path.Join(path.Dir(dest), target)
	}
	fi, err := t.Exec.Stat(ctx, target, t.Become)
	if err != nil {
		return err
	}
	if fi.IsDir {
		return fmt.Errorf("dest is a symlink to a directory (%s); name a file, or remove the link", linkTo)
	}
	return nil
}

// maxDiffBytes is the largest file shown as a diff; a bigger change is
// summed up by its sizes.
const maxDiffBytes = 1 << 20

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Plan costs one Stat when nothing changed; a content change adds a read
// for the diff (none for a secret).
func (m *copyModule) Plan(ctx context.Context, t *Target) (Change, error) {
	m.become = t.Become
	fi, err := stat(ctx, t, m.dest)
	if err != nil {
		return Change{}, fmt.Errorf("copy %s: %w", m.dest, err)
	}
	if fi.IsDir {
		return Change{}, fmt.Errorf("copy %s: dest is a directory", m.dest)
	}
	if fi.IsLink {
		if err := refuseLinkToDir(ctx, t, m.dest, fi.LinkTo); err != nil {
			return Change{}, fmt.Errorf("copy %s: %w", m.dest, err)
		}
	}
	m.cur = fi
	m.rewrite = !fi.Exists || fi.IsLink || fi.SHA256 != sha256Hex(m.content)
	if !m.rewrite {
		fixes := m.attrs.fixes(m.dest, fi)
		c := Change{Changed: len(fixes) > 0, Summary: fixes}
		if c.Changed {
			c.Predict = m.predict
		}
		return c, nil
	}
	c := Change{Changed: true, Predict: m.predict}
	var old []byte
	big := fi.Size > maxDiffBytes || len(m.content) > maxDiffBytes
	if !fi.Exists || fi.IsLink {
		if err := needParent(ctx, t, m.dest); err != nil {
			return Change{}, fmt.Errorf("copy %s: %w", m.dest, err)
		}
	}
	if fi.Exists && !fi.IsLink {
		c.Summary = []string{"update " + m.dest}
		if !m.secret && !big {
			if old, err = readFile(ctx, t, m.dest); err != nil {
				return Change{}, fmt.Errorf("copy %s: %w", m.dest, err)
			}
		}
		c.Summary = append(c.Summary, m.attrs.fixes(m.dest, fi)...)
	} else {
		// A new file gets its mode and owner as it is created: the create
		// line says so, there is nothing to fix afterwards.
		c.Summary = []string{"create " + m.dest + " (" + modeString(m.uploadOptions().Mode) + ")"}
	}
	if big && !m.secret {
		// Reading and diffing it would hold both sides (and the diff) in
		// memory on the controller, for a diff nobody reads.
		c.Diff = fmt.Sprintf("content changed (%d -> %d bytes, too large to diff)", fi.Size, len(m.content))
	} else {
		c.Diff = fileDiff(m.dest, old, m.content, m.secret)
	}
	return c, nil
}

// predict records the file as Apply leaves it.
func (m *copyModule) predict(st *hoststate.State) {
	o := m.uploadOptions()
	o.Become = m.become
	if !m.rewrite {
		// Only attributes change: chown and chmod leave what the task sets.
		o.Owner, o.Group = cmpOr(m.attrs.owner, m.cur.Owner), cmpOr(m.attrs.group, m.cur.Group)
		o.Mode = m.cur.Mode
		if m.attrs.hasMode {
			o.Mode = m.attrs.mode
		}
	}
	st.Set(m.dest, fileEntry(m.content, o))
}

// Writes is the path the task writes.
func (m *copyModule) Writes() []string { return []string{m.dest} }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// uploadOptions keeps the current mode and owner where the task sets none,
// because a rename would otherwise replace them with the uploader's.
func (m *copyModule) uploadOptions() executor.UploadOptions {
	o := executor.UploadOptions{
		Mode: m.attrs.mode, Owner: m.attrs.owner, Group: m.attrs.group,
		Validate: m.validate, Backup: m.backup,
	}
	exists := m.cur.Exists && !m.cur.IsLink
	if !m.attrs.hasMode {
		switch {
		case exists:
			o.Mode = m.cur.Mode
		case m.secret:
			o.Mode = 0o600
		default:
			o.Mode = 0o644
		}
	}
	if exists && o.Owner == "" {
		o.Owner = m.cur.Owner
	}
	if exists && o.Group == "" {
		o.Group = m.cur.Group
	}
	return o
}

// Apply uploads the content (or fixes mode and owner in place) and
// verifies the result with one Stat.
func (m *copyModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if m.rewrite {
		o := m.uploadOptions()
		o.Become = t.Become
		if err := t.Exec.Upload(ctx, m.dest, m.content, o); err != nil {
			var ve *executor.ValidationError
			if errors.As(err, &ve) {
				return c, fmt.Errorf("copy %s: %w", m.dest, err)
			}
			return c, fmt.Errorf("copy %s: upload: %w", m.dest, err)
		}
	} else if script := m.attrs.fixScript(m.dest, m.cur); script != "" {
		if _, err := runOK(ctx, t, "copy "+m.dest, executor.Command{Script: "set -e\n" + script}); err != nil {
			return c, err
		}
	}
	fi, err := t.Exec.Stat(ctx, m.dest, t.Become)
	if err != nil {
		return c, fmt.Errorf("copy %s: verify: %w", m.dest, err)
	}
	if fi.SHA256 != sha256Hex(m.content) {
		return c, fmt.Errorf("copy %s: verify: content differs after upload", m.dest)
	}
	if fixes := m.attrs.fixes(m.dest, fi); len(fixes) > 0 {
		return c, fmt.Errorf("copy %s: verify: still needs %v", m.dest, fixes)
	}
	return c, nil
}
