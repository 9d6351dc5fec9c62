package modules

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// get_url downloads a URL to a file on the target, fetched by the target
// itself with curl (or wget): the controller never holds the file. The
// download goes to a temp file beside dest, is checked against checksum,
// then renamed into place, so a failed or wrong download leaves dest as it
// was. A dest that exists is not fetched again when its sha256 matches
// checksum (or, without checksum, at all: Ansible's force: no).
func init() {
	register("get_url", []string{"url", "dest", "checksum", "mode", "owner", "group", "timeout"}, []string{"url", "dest"}, newGetURL)
}

type getURL struct {
	url     string
	shown   string // the URL with any password hidden, for summaries
	dest    string
	sum     string // hex sha256, "" when no checksum is given
	attrs   attrs
	timeout int

	cur executor.FileInfo // what Plan saw
}

var sha256Hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func newGetURL(a *argReader) (Module, error) {
	m := &getURL{
		url:     a.str("url", ""),
		dest:    a.str("dest", ""),
		attrs:   readAttrs(a, true),
		timeout: a.integer("timeout", 60, 1, 86400),
	}
	checksum := a.str("checksum", "")
	if a.err != nil {
		return nil, a.err
	}
	u, err := url.Parse(m.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ftp") || u.Host == "" {
		return nil, fmt.Errorf("get_url: argument url: want an http, https or ftp URL with a host")
	}
	// The URL reaches curl through its config on stdin, in double quotes.
	if strings.ContainsAny(m.url, "\"\\ \t\r\n") {
		return nil, fmt.Errorf("get_url: argument url: quotes, backslashes and blanks must be percent-encoded")
	}
	m.shown = u.Redacted()
	if !path.IsAbs(m.dest) || strings.HasSuffix(m.dest, "/") {
		return nil, fmt.Errorf("get_url: argument dest: %q is not an absolute path of a file", m.dest)
	}
	if checksum != "" {
		algo, hex, ok := strings.Cut(checksum, ":")
		hex = strings.ToLower(hex)
		if !ok || algo != "sha256" || !sha256Hex64.MatchString(hex) {
			return nil, fmt.Errorf("get_url: argument checksum: want sha256:<64 hex digits>, got %q", checksum)
		}
		m.sum = hex
	}
	return m, nil
}

// Plan costs one Stat when dest is already there.
func (m *getURL) Plan(ctx context.Context, t *Target) (Change, error) {
	fi, err := stat(ctx, t, m.dest)
	if err != nil {
		return Change{}, fmt.Errorf("get_url %s: %w", m.dest, err)
	}
	if fi.IsDir {
		return Change{}, fmt.Errorf("get_url %s: dest is a directory", m.dest)
	}
	m.cur = fi
	if fi.Exists && !fi.IsLink && (m.sum == "" || fi.SHA256 == m.sum) {
		fixes := m.attrs.fixes(m.dest, fi)
		c := Change{Changed: len(fixes) > 0, Summary: fixes}
		if c.Changed {
			c.Predict = func(st *hoststate.State) {
				st.Chattr(m.dest, hoststate.File, m.attrs.mode, m.attrs.hasMode, m.attrs.owner, m.attrs.group)
			}
		}
		return c, nil
	}
	if !fi.Exists || fi.IsLink {
		if err := needParent(ctx, t, m.dest); err != nil {
			return Change{}, fmt.Errorf("get_url %s: %w", m.dest, err)
		}
	}
	line := "download " + m.shown + " to " + m.dest
	if m.sum != "" {
		line += " (sha256:" + m.sum[:12] + "...)"
	}
	if fi.Exists {
		line += " (replacing a file whose sha256 is " + fi.SHA256[:min(12, len(fi.SHA256))] + "...)"
	}
	return Change{Changed: true, Summary: []string{line + m.attrs.describe()}, Predict: func(st *hoststate.State) {
		// What the server sends is known only once it is fetched.
		st.MarkUnknown(m.dest, "get_url downloads it only in the real run")
	}}, nil
}

// Writes is the path the task writes.
func (m *getURL) Writes() []string { return []string{m.dest} }

// fetchScript downloads $FERRY_URL to a temp file beside dest, checks it,
// sets its mode and owner and renames it into place; it prints the sha256.
// The URL (which may carry a token) travels in the environment, exported
// through stdin, and reaches curl or wget on their stdin: it never shows
// on a command line.
const fetchScript = `set -e
tmp=$(mktemp "$dir/.ferry-get_url.XXXXXXXX")
trap 'rm -f "$tmp"' EXIT
if command -v curl >/dev/null 2>&1; then
  printf 'url = "%s"\n' "$FERRY_URL" | curl -fsSL --max-time "$timeout" -K - -o "$tmp"
elif command -v wget >/dev/null 2>&1; then
  printf '%s\n' "$FERRY_URL" | wget -q -T "$timeout" -i - -O "$tmp"
else
  echo "the host has neither curl nor wget (install one first, e.g. package: {names: [curl]})" >&2
  exit 127
fi
sum=$(sha256sum <"$tmp"); sum=${sum%% *}
if [ -n "$want" ] && [ "$sum" != "$want" ]; then
  echo "checksum mismatch: the download has sha256:$sum, want sha256:$want; $dest left as it was" >&2
  exit 65
fi
`

// Apply fetches, checks and renames in one round trip, then verifies with
// one Stat.
func (m *getURL) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if !m.fetch() {
		if script := m.attrs.fixScript(m.dest, m.cur); script != "" {
			if _, err := runOK(ctx, t, "get_url "+m.dest, executor.Command{Script: "set -e\n" + script}); err != nil {
				return c, err
			}
		}
		return c, m.verify(ctx, t, m.cur.SHA256)
	}
	// A new file gets 0644 (mktemp makes 0600); a replaced one keeps its
	// mode and owner unless the task sets them.
	at := m.attrs
	if !at.hasMode {
		at.mode, at.hasMode = 0o644, true
		if m.cur.Exists && !m.cur.IsLink {
			at.mode = m.cur.Mode
		}
	}
	if m.cur.Exists && !m.cur.IsLink {
		at.owner, at.group = cmpOr(at.owner, m.cur.Owner), cmpOr(at.group, m.cur.Group)
	}
	script := "dir=" + quote(path.Dir(m.dest)) + "\ndest=" + quote(m.dest) + "\nwant=" + quote(m.sum) +
		"\ntimeout=" + fmt.Sprint(m.timeout) + "\n" + fetchScript + strings.ReplaceAll(at.setScript("$tmp", false), quote("$tmp"), `"$tmp"`) +
		"mv -f \"$tmp\" \"$dest\"\ntrap - EXIT\necho \"$sum\"\n"
	res, err := runOK(ctx, t, "get_url "+m.shown, executor.Command{Script: script, Env: map[string]string{"FERRY_URL": m.url}})
	if err != nil {
		return c, err
	}
	return c, m.verify(ctx, t, strings.TrimSpace(string(res.Stdout)))
}

func (m *getURL) fetch() bool {
	return !m.cur.Exists || m.cur.IsLink || (m.sum != "" && m.cur.SHA256 != m.sum)
}

// verify reads dest back: the content fetched, with the attributes asked.
func (m *getURL) verify(ctx context.Context, t *Target, sum string) error {
	fi, err := t.Exec.Stat(ctx, m.dest, t.Become)
	if err != nil {
		return fmt.Errorf("get_url %s: verify: %w", m.dest, err)
	}
	if !fi.Exists || fi.SHA256 != sum {
		return fmt.Errorf("get_url %s: verify: content is not what was fetched", m.dest)
	}
	if fixes := m.attrs.fixes(m.dest, fi); len(fixes) > 0 {
		return fmt.Errorf("get_url %s: verify: still needs %v", m.dest, fixes)
	}
	return nil
}
