package modules

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/modspec"
)

// unarchive unpacks a tar.gz, tar.xz, tar or zip archive into a folder of
// the target: an archive of the role's files/ (uploaded), or one already
// on the target (remote_src: true, e.g. fetched by get_url). The archive is
// read on the controller, so the plan compares the folder with exactly
// what extraction leaves (type, content, mode, link target and the owner
// asked for of every entry) and check mode predicts it; extraction runs on
// the target with tar (xz for tar.xz) or unzip. With creates, a path that
// exists means done and nothing else is read.
func init() {
	user := []string{"src", "dest", "remote_src", "creates", "owner", "group", "mode"}
	Register(withFile(newSpec("unarchive", user, []string{"src", "dest"}, append([]string{"content"}, user...), []string{"dest"}, newUnarchive),
		modspec.FileArg{Arg: "src", Folder: modspec.Files, Into: "content", Unless: "remote_src"}))
}

type unarchive struct {
	src     string // on the target (remote_src), or "" for uploaded content
	content []byte // the archive, read from the controller or the target
	dest    string
	creates string
	attrs   attrs // owner and group of every entry; mode of dest

	format  string
	entries []archiveEntry
	become  bool
}

func newUnarchive(a *argReader) (Module, error) {
	m := &unarchive{
		dest:    a.str("dest", ""),
		creates: a.str("creates", ""),
		attrs:   readAttrs(a, true),
	}
	remote := a.boolean("remote_src", false)
	if remote {
		m.src = a.str("src", "")
	} else {
		m.content = []byte(a.str("content", ""))
	}
	if a.err != nil {
		return nil, a.err
	}
	switch {
	case remote && !path.IsAbs(m.src):
		return nil, fmt.Errorf("unarchive: argument src: %q is not an absolute path on the target (remote_src)", m.src)
	case !remote && !a.has("content"):
		return nil, fmt.Errorf("unarchive: argument src: required (a file of the role's files/, or with remote_src a path on the target)")
	case !path.IsAbs(m.dest):
		return nil, fmt.Errorf("unarchive: argument dest: %q is not an absolute path", m.dest)
	case m.creates != "" && !path.IsAbs(m.creates):
		return nil, fmt.Errorf("unarchive: argument creates: %q is not an absolute path", m.creates)
	}
	m.dest = path.Clean(m.dest)
	if !remote {
		// An archive of the role is read (and refused) before anything runs.
		if err := m.parse(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *unarchive) what() string {
	if m.src != "" {
		return m.src
	}
	return "archive"
}

func (m *unarchive) parse() error {
	format, entries, err := readArchive(m.content)
	if err != nil {
		return fmt.Errorf("unarchive %s: %w", m.what(), err)
	}
	m.format, m.entries = format, entries
	return nil
}

// readScript prints dest's state, then one line per path read from stdin
// (relative to dest): type, mode, owner, group, uid, gid, then the sha256
// of a file or the target of a link.
const readScript = `cd -- "$dest" 2>/dev/null || { echo nodest; exit 0; }
tab=$(printf '\t')
st() { stat -c "%a$tab%U$tab%G$tab%u$tab%g" -- "$1"; }
printf 'dir\t%s\n' "$(st .)"
while IFS= read -r p; do
  if [ -L "$p" ]; then printf 'link\t%s\t%s\n' "$(st "$p")" "$(readlink -- "$p")"
  elif [ -d "$p" ]; then printf 'dir\t%s\n' "$(st "$p")"
  elif [ -f "$p" ]; then s=$(sha256sum <"$p"); printf 'file\t%s\t%s\n' "$(st "$p")" "${s%% *}"
  elif [ -e "$p" ]; then echo other
  else echo absent; fi
done
`

// seen is one path as the read found it.
type seen struct {
	fi   executor.FileInfo
	kind string // file, dir, link, other, absent
}

func parseSeen(line string) (seen, error) {
	f := strings.Split(line, "\t")
	s := seen{kind: f[0]}
	switch {
	case s.kind == "absent", s.kind == "other":
		s.fi.Exists = s.kind == "other"
		return s, nil
	case len(f) < 6:
		return s, fmt.Errorf("unexpected line %q", line)
	}
	bits, err := strconv.ParseUint(f[1], 8, 32)
	if err != nil {
		return s, fmt.Errorf("unexpected line %q", line)
	}
	s.fi = executor.FileInfo{Exists: true, IsDir: s.kind == "dir", IsLink: s.kind == "link", Mode: executor.ModeFromBits(uint32(bits)),
		Owner: f[2], Group: f[3], OwnerID: f[4], GroupID: f[5]}
	if len(f) > 6 {
		if s.kind == "link" {
			s.fi.LinkTo = strings.Join(f[6:], "\t")
		} else {
			s.fi.SHA256 = f[6]
		}
	}
	return s, nil
}

// read returns dest's state and each entry's, in one round trip; in check
// mode, paths an earlier task writes are read from the prediction.
func (m *unarchive) read(ctx context.Context, t *Target) (executor.FileInfo, []seen, error) {
	var list strings.Builder
	for _, e := range m.entries {
		list.WriteString(e.name + "\n")
	}
	res, err := runOK(ctx, t, "unarchive "+m.dest, executor.Command{Script: "dest=" + quote(m.dest) + "\n" + readScript, Stdin: strings.NewReader(list.String())})
	if err != nil {
		return executor.FileInfo{}, nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(res.Stdout), "\n"), "\n")
	var dest executor.FileInfo
	got := make([]seen, len(m.entries))
	if lines[0] == "nodest" {
		for i := range got {
			got[i].kind = "absent"
		}
	} else {
		if len(lines) != len(m.entries)+1 {
			return dest, nil, fmt.Errorf("unarchive %s: read %d lines for %d entries", m.dest, len(lines)-1, len(m.entries))
		}
		d, err := parseSeen(lines[0])
		if err != nil {
			return dest, nil, fmt.Errorf("unarchive %s: %w", m.dest, err)
		}
		dest = d.fi
		for i, l := range lines[1:] {
			if got[i], err = parseSeen(l); err != nil {
				return dest, nil, fmt.Errorf("unarchive %s: %w", m.dest, err)
			}
		}
	}
	if t.State == nil {
		return dest, got, nil
	}
	if _, ok := t.State.State.Lookup(m.dest); ok || !dest.Exists {
		if dest, err = stat(ctx, t, m.dest); err != nil {
			return dest, nil, err
		}
	}
	for i, e := range m.entries {
		p := path.Join(m.dest, e.name)
		_, predicted := t.State.State.Lookup(p)
		if !predicted && got[i].kind != "absent" {
			continue
		}
		fi, err := t.State.Stat(ctx, p, t.Become)
		if err != nil {
			return dest, nil, err
		}
		got[i] = seen{fi: fi, kind: kindOf(fi)}
		if got[i].kind == "file" && fi.SHA256 == "" {
			return dest, nil, &hoststate.UnknownError{What: p, Because: "an earlier task writes it with content check mode does not know"}
		}
	}
	return dest, got, nil
}

func kindOf(fi executor.FileInfo) string {
	switch {
	case !fi.Exists:
		return "absent"
	case fi.IsLink:
		return "link"
	case fi.IsDir:
		return "dir"
	}
	return "file"
}

// differs lists the entries extraction would change.
func (m *unarchive) differs(got []seen) []string {
	var out []string
	for i, e := range m.entries {
		s := got[i]
		same := s.kind == e.kind
		switch {
		case !same:
		case e.kind == "file":
			same = s.fi.SHA256 == e.sum && executor.ModeBits(s.fi.Mode) == executor.ModeBits(e.mode)
		case e.kind == "dir" && !e.implicit:
			same = executor.ModeBits(s.fi.Mode) == executor.ModeBits(e.mode)
		case e.kind == "link":
			same = s.fi.LinkTo == e.link
		}
		if same && m.attrs.ownerSpec(s.fi) != "" {
			same = false
		}
		if !same {
			out = append(out, e.name)
		}
	}
	return out
}

// Plan costs one Stat with creates when that path exists; otherwise one
// round trip (plus reading the archive from the target with remote_src).
func (m *unarchive) Plan(ctx context.Context, t *Target) (Change, error) {
	m.become = t.Become
	if m.creates != "" {
		fi, err := stat(ctx, t, m.creates)
		if err != nil {
			return Change{}, fmt.Errorf("unarchive %s: creates: %w", m.dest, err)
		}
		if fi.Exists {
			return Change{Summary: []string{"skip: " + m.creates + " exists"}}, nil
		}
	}
	if m.src != "" {
		b, err := readFile(ctx, t, m.src)
		if err != nil {
			return Change{}, fmt.Errorf("unarchive %s: %w", m.src, err)
		}
		m.content = b
		if err := m.parse(); err != nil {
			return Change{}, err
		}
	}
	dest, got, err := m.read(ctx, t)
	if err != nil {
		return Change{}, err
	}
	if !dest.Exists || !dest.IsDir {
		return Change{}, fmt.Errorf("unarchive %s: dest is not an existing folder (create it first, with file: {state: directory})", m.dest)
	}
	var summary []string
	if diff := m.differs(got); len(diff) > 0 {
		shown := diff
		if len(shown) > 5 {
			shown = append(shown[:5:5], "...")
		}
		summary = append(summary, fmt.Sprintf("unpack %s (%s) into %s: %d of %d entries differ (%s)",
			m.what(), m.format, m.dest, len(diff), len(m.entries), strings.Join(shown, ", ")))
	}
	dattrs := attrs{mode: m.attrs.mode, hasMode: m.attrs.hasMode}
	summary = append(summary, dattrs.fixes(m.dest, dest)...)
	c := Change{Changed: len(summary) > 0, Summary: summary}
	if c.Changed {
		c.Predict = m.predict
	}
	return c, nil
}

// predict records every entry as extraction leaves it.
func (m *unarchive) predict(st *hoststate.State) {
	for _, e := range m.entries {
		p := path.Join(m.dest, e.name)
		switch e.kind {
		case "dir":
			st.Ensure(p, m.become)
			if e.implicit {
				st.Chattr(p, hoststate.Dir, 0, false, m.attrs.owner, m.attrs.group)
			} else {
				st.Chattr(p, hoststate.Dir, e.mode, true, m.attrs.owner, m.attrs.group)
			}
		case "link":
			st.Set(p, hoststate.Entry{Kind: hoststate.Link, LinkTo: e.link, Owner: m.attrs.owner, Group: m.attrs.group, Become: m.become, Fresh: true})
		default:
			st.Set(p, hoststate.Entry{Kind: hoststate.File, Content: e.content, Mode: e.mode, HasMode: true,
				Owner: m.attrs.owner, Group: m.attrs.group, Become: m.become, Fresh: true})
		}
	}
	if m.attrs.hasMode {
		st.Chattr(m.dest, hoststate.Dir, m.attrs.mode, true, "", "")
	}
}

// Writes is the folder the archive is unpacked into.
func (m *unarchive) Writes() []string { return []string{m.dest} }

// extractScript unpacks $a into $dest, then sets owner and mode of every
// entry listed on stdin ("MODE<tab>NAME", MODE "-" for links): archives and
// extractors differ in what they restore (unzip, umask), the listing does
// not.
const extractScript = `set -e
need() { command -v "$1" >/dev/null 2>&1 || { echo "unpacking a $fmt archive needs $1 on the host (install it first)" >&2; exit 127; }; }
cd -- "$dest"
case $fmt in
zip) need unzip; unzip -o -q "$a" -d . ;;
tar.xz) need xz; tar -x -p --no-same-owner -f "$a" ;;
*) tar -x -p --no-same-owner -f "$a" ;;
esac
tab=$(printf '\t')
while IFS="$tab" read -r mode p; do
  if [ -n "$own" ]; then chown -h -- "$own" "$p"; fi
  if [ "$mode" != - ]; then chmod "$mode" -- "$p"; fi
done
`

// Apply uploads the archive when it comes from the controller, extracts
// it in one round trip, and verifies by planning again.
func (m *unarchive) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	a := m.src
	var script strings.Builder
	if a == "" {
		a = path.Join(path.Dir(m.dest), ".ferry-unarchive-"+sha256Hex(m.content)[:16])
		if err := t.Exec.Upload(ctx, a, m.content, executor.UploadOptions{Mode: 0o600, Become: t.Become}); err != nil {
			return c, fmt.Errorf("unarchive %s: upload: %w", m.dest, err)
		}
		script.WriteString("trap 'rm -f \"$a\"' EXIT\n")
	}
	own := ""
	if m.attrs.owner != "" || m.attrs.group != "" {
		own = m.attrs.owner
		if m.attrs.group != "" {
			own += ":" + m.attrs.group
		}
	}
	var list strings.Builder
	for _, e := range m.entries {
		mode := "-"
		switch {
		case e.kind == "link":
		case e.implicit:
			if own == "" {
				continue
			}
		default:
			mode = modeString(e.mode)
		}
		list.WriteString(mode + "\t" + e.name + "\n")
	}
	script.WriteString(extractScript)
	if m.attrs.hasMode {
		script.WriteString("chmod " + modeString(m.attrs.mode) + " -- \"$dest\"\n")
	}
	pre := "a=" + quote(a) + "\ndest=" + quote(m.dest) + "\nfmt=" + quote(m.format) + "\nown=" + quote(own) + "\n"
	if _, err := runOK(ctx, t, "unarchive "+m.what()+" into "+m.dest, executor.Command{Script: pre + script.String(), Stdin: strings.NewReader(list.String())}); err != nil {
		return c, err
	}
	again := *m
	again.creates = "" // verify the entries themselves
	if m.src != "" {
		again.src = "" // the archive read is the one extracted
	}
	return c, verifyByPlan(ctx, &again, t, "unarchive "+m.dest)
}
