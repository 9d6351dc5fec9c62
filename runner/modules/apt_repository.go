package modules

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/runner/modspec"
)

// apt_repository adds a third-party apt source as a deb822 file,
// /etc/apt/sources.list.d/NAME.sources, with the repository's signing key
// (signed_by: a file of the role's files/, armored or binary) uploaded to
// /etc/apt/keyrings/ and named in Signed-By, so the key vouches for this
// source only. Both files are written as copy writes them; the apt cache
// of this one source is refreshed only when one of them changed (and
// failing to fetch or verify it fails the task).
func init() {
	user := []string{"name", "uris", "suites", "components", "types", "architectures", "signed_by", "state", "update_cache"}
	Register(withFile(newSpec("apt_repository", user, []string{"name"}, append(without(user, "signed_by"), "key"), []string{"name"}, newAptRepository),
		modspec.FileArg{Arg: "signed_by", Folder: modspec.Files, Into: "key"}))
}

// Where the files go; tests point them elsewhere.
var (
	aptListDir = "/etc/apt/sources.list.d"
	aptKeyDir  = "/etc/apt/keyrings"
)

var aptRepoName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
var aptWord = regexp.MustCompile(`^[^\s#]+$`)

type aptRepository struct {
	name     string
	parts    []Module // the key (if any) and the .sources file
	present  bool
	update   bool
	changed  bool // Plan: a file changes
	keyFile  string
	listFile string
}

func newAptRepository(a *argReader) (Module, error) {
	m := &aptRepository{
		name:    a.str("name", ""),
		present: a.presence() == "present",
		update:  a.boolean("update_cache", true),
	}
	uris, suites, comps := a.list("uris"), a.list("suites"), a.list("components")
	types, archs := a.list("types"), a.list("architectures")
	key := a.str("key", "")
	if a.err != nil {
		return nil, a.err
	}
	if !aptRepoName.MatchString(m.name) {
		return nil, fmt.Errorf("apt_repository: argument name: %q: use letters, digits, _, - and . (it names the files)", m.name)
	}
	m.listFile = aptListDir + "/" + m.name + ".sources"
	ext := ".gpg"
	if bytes.Contains([]byte(key), []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
		ext = ".asc"
	}
	if a.has("key") {
		m.keyFile = aptKeyDir + "/" + m.name + ext
	}
	if !m.present {
		for _, p := range []string{aptKeyDir + "/" + m.name + ".asc", aptKeyDir + "/" + m.name + ".gpg", m.listFile} {
			f, err := mustNew("file", map[string]any{"path": p, "state": "absent"})
			if err != nil {
				return nil, err
			}
			m.parts = append(m.parts, f)
		}
		return m, nil
	}
	if len(types) == 0 {
		types = []string{"deb"}
	}
	for _, check := range []struct {
		arg  string
		list []string
	}{{"uris", uris}, {"suites", suites}, {"types", types}, {"components", comps}, {"architectures", archs}} {
		if len(check.list) == 0 && (check.arg == "uris" || check.arg == "suites") {
			return nil, fmt.Errorf("apt_repository: argument %s: required with state present", check.arg)
		}
		for _, w := range check.list {
			if !aptWord.MatchString(w) {
				return nil, fmt.Errorf("apt_repository: argument %s: %q: one word each, without blanks or #", check.arg, w)
			}
		}
	}
	for _, u := range uris {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || (p.Host == "" && p.Scheme != "file") {
			return nil, fmt.Errorf("apt_repository: argument uris: %q is not a URL", u)
		}
	}
	flat := strings.HasSuffix(suites[0], "/")
	if flat && len(comps) > 0 || !flat && len(comps) == 0 {
		return nil, fmt.Errorf("apt_repository: argument components: required unless the suite is an exact path ending in /, and not allowed with one")
	}
	var b strings.Builder
	b.WriteString("# managed by ferry: apt_repository " + m.name + "\n")
	b.WriteString("Types: " + strings.Join(types, " ") + "\n")
	b.WriteString("URIs: " + strings.Join(uris, " ") + "\n")
	b.WriteString("Suites: " + strings.Join(suites, " ") + "\n")
	if len(comps) > 0 {
		b.WriteString("Components: " + strings.Join(comps, " ") + "\n")
	}
	if len(archs) > 0 {
		b.WriteString("Architectures: " + strings.Join(archs, " ") + "\n")
	}
	if m.keyFile != "" {
		b.WriteString("Signed-By: " + m.keyFile + "\n")
		k, err := mustNew("copy", map[string]any{"dest": m.keyFile, "content": key, "mode": "0644"})
		if err != nil {
			return nil, err
		}
		m.parts = append(m.parts, k)
	}
	s, err := mustNew("copy", map[string]any{"dest": m.listFile, "content": b.String(), "mode": "0644"})
	if err != nil {
		return nil, err
	}
	m.parts = append(m.parts, s)
	return m, nil
}

// Plan costs one Stat per file when nothing changed (a read of the
// .sources file for its diff when it changes; the key is shown by size).
func (m *aptRepository) Plan(ctx context.Context, t *Target) (Change, error) {
	var c Change
	var predicts []func(*hoststate.State)
	m.changed = false
	for _, p := range m.parts {
		pc, err := p.Plan(ctx, t)
		if err != nil {
			return Change{}, fmt.Errorf("apt_repository %s: %w", m.name, err)
		}
		if !pc.Changed {
			continue
		}
		m.changed = true
		c.Summary = append(c.Summary, pc.Summary...)
		if cm, ok := p.(*copyModule); ok && cm.dest == m.keyFile {
			pc.Diff = "" // a key is not read as text
		}
		if pc.Diff != "" {
			c.Diff += pc.Diff
		}
		if pc.Predict != nil {
			predicts = append(predicts, pc.Predict)
		}
	}
	if !m.changed {
		return Change{}, nil
	}
	if m.present && m.update {
		c.Summary = append(c.Summary, "apt-get update ("+m.name+" only)")
	}
	c.Changed = true
	c.Predict = func(st *hoststate.State) {
		for _, p := range predicts {
			p(st)
		}
		if m.present && m.update {
			// The package module plans installs from it without a
			// second update, as the real run will.
			st.SetFact("apt", "updated", "yes")
		}
	}
	return c, nil
}

// Writes are the key and the .sources file.
func (m *aptRepository) Writes() []string {
	out := []string{m.listFile}
	if m.keyFile != "" {
		out = append(out, m.keyFile)
	}
	return out
}

// updateScript refreshes the lists of this source only, and fails when
// apt cannot fetch or verify it (apt-get update otherwise only warns).
const updateScript = `apt-get update -q --error-on=any -o Dir::Etc::SourceList="$list" -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0`

// Apply writes what changed (each file verified), then refreshes the
// source's lists.
func (m *aptRepository) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	for _, p := range m.parts {
		pc, err := p.Plan(ctx, t)
		if err != nil {
			return c, fmt.Errorf("apt_repository %s: %w", m.name, err)
		}
		if !pc.Changed {
			continue
		}
		if _, err := p.Apply(ctx, t, pc); err != nil {
			return c, fmt.Errorf("apt_repository %s: %w", m.name, err)
		}
	}
	if m.present && m.update {
		_, err := runOK(ctx, t, "apt_repository "+m.name+": apt-get update", executor.Command{
			Script: "list=" + quote(m.listFile) + "\n" + updateScript, Env: map[string]string{"DEBIAN_FRONTEND": "noninteractive"}})
		if err != nil {
			return c, err
		}
	}
	return c, nil
}
