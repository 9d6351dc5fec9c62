package lab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// AptSource is one "deb" source of the controller's apt configuration.
type AptSource struct {
	// URI is the mirror, e.g. http://deb.debian.org/debian.
	URI        *url.URL
	Suites     []string
	Components []string
	// SignedBy is the keyring the source names, if any.
	SignedBy string
}

// ProxyPath is where the lab proxy serves this mirror: the mirror's host and
// path, so that two mirrors can never share a location.
func (s AptSource) ProxyPath() string {
	return "/" + s.URI.Host + strings.TrimSuffix(s.URI.Path, "/")
}

// DefaultAptSources lists the controller's apt source files, the one-line
// sources.list first.
func DefaultAptSources() []string {
	files := []string{"/etc/apt/sources.list"}
	more, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	sort.Strings(more)
	lists, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	sort.Strings(lists)
	return append(append(files, more...), lists...)
}

// ReadAptSources reads the "deb" http(s) sources of the given files; files
// that do not exist are skipped, because a system may use either format.
func ReadAptSources(files []string) ([]AptSource, error) {
	var out []AptSource
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("apt sources %s: %w", f, err)
		}
		var srcs []AptSource
		if strings.HasSuffix(f, ".sources") {
			srcs, err = parseDeb822(data)
		} else {
			srcs, err = parseOneLine(data)
		}
		if err != nil {
			return nil, fmt.Errorf("apt sources %s: %w", f, err)
		}
		out = append(out, srcs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("apt sources %s: no http(s) \"deb\" source: the lab needs the controller's Debian mirror", strings.Join(files, ", "))
	}
	return out, nil
}

// parseOneLine reads the classic format: "deb [opts] URI SUITE COMP...".
func parseOneLine(data []byte) ([]AptSource, error) {
	var out []AptSource
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "deb" {
			continue
		}
		fields = fields[1:]
		var signedBy string
		if len(fields) > 0 && strings.HasPrefix(fields[0], "[") {
			end := 0
			for end < len(fields) && !strings.HasSuffix(fields[end], "]") {
				end++
			}
			if end == len(fields) {
				return nil, fmt.Errorf("line %d: unterminated [options]", n)
			}
			for _, o := range fields[:end+1] {
				o = strings.Trim(o, "[]")
				if v, ok := strings.CutPrefix(o, "signed-by="); ok {
					signedBy = v
				}
			}
			fields = fields[end+1:]
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("line %d: want URI and suite", n)
		}
		u, err := url.Parse(fields[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			continue
		}
		out = append(out, AptSource{URI: u, Suites: fields[1:2], Components: fields[2:], SignedBy: signedBy})
	}
	return out, sc.Err()
}

// parseDeb822 reads the stanza format of *.sources files.
func parseDeb822(data []byte) ([]AptSource, error) {
	var out []AptSource
	for _, stanza := range splitStanzas(data) {
		if stanza["enabled"] == "no" || !slices.Contains(strings.Fields(stanza["types"]), "deb") {
			continue
		}
		suites, comps := strings.Fields(stanza["suites"]), strings.Fields(stanza["components"])
		if len(suites) == 0 {
			return nil, fmt.Errorf("stanza with URIs %q: no Suites", stanza["uris"])
		}
		for _, raw := range strings.Fields(stanza["uris"]) {
			u, err := url.Parse(raw)
			if err != nil {
				return nil, fmt.Errorf("URI %q: %w", raw, err)
			}
			if u.Scheme != "http" && u.Scheme != "https" {
				continue
			}
			out = append(out, AptSource{URI: u, Suites: suites, Components: comps, SignedBy: stanza["signed-by"]})
		}
	}
	return out, nil
}

// splitStanzas parses RFC 822 style stanzas with lowercased field names.
// Continuation lines are joined, which is enough for every field read here
// (an inline Signed-By key block becomes one long, unused value).
func splitStanzas(data []byte) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	last := ""
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur, last = map[string]string{}, ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			cur[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return out
}

// mirrors returns the distinct mirrors of srcs, in first-seen order.
func mirrors(srcs []AptSource) []AptSource {
	seen := map[string]bool{}
	var out []AptSource
	for _, s := range srcs {
		if !seen[s.ProxyPath()] {
			seen[s.ProxyPath()] = true
			out = append(out, s)
		}
	}
	return out
}

// debootstrapMirror picks the mirror that carries the lab's suite itself
// (not -updates or -security), as served by the proxy.
func debootstrapMirror(srcs []AptSource, proxy string) (string, error) {
	for _, s := range srcs {
		if slices.Contains(s.Suites, Suite) {
			return proxy + s.ProxyPath(), nil
		}
	}
	return "", fmt.Errorf("apt sources: no source carries suite %s (the lab hosts are Debian 12)", Suite)
}

// releaseSuites lists the source's suites of the lab's release (bookworm,
// bookworm-updates, bookworm/updates).
func (s AptSource) releaseSuites() []string {
	var suites []string
	for _, su := range s.Suites {
		if su == Suite || strings.HasPrefix(su, Suite+"-") || strings.HasPrefix(su, Suite+"/") {
			suites = append(suites, su)
		}
	}
	return suites
}

// hostSources renders a lab host's deb822 sources: the controller's sources
// for the lab's release, each URI pointing at the proxy.
func hostSources(srcs []AptSource, proxy string) []byte {
	var b bytes.Buffer
	b.WriteString("# Written by ferry lab: hosts reach Debian only through the lab proxy.\n")
	for _, s := range srcs {
		suites := s.releaseSuites()
		if len(suites) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\nTypes: deb\nURIs: %s%s\nSuites: %s\nComponents: %s\n",
			proxy, s.ProxyPath(), strings.Join(suites, " "), strings.Join(s.Components, " "))
		// Only a keyring path carries over; the hosts' base has Debian's.
		if strings.HasPrefix(s.SignedBy, "/usr/share/keyrings/debian-") {
			fmt.Fprintf(&b, "Signed-By: %s\n", s.SignedBy)
		}
	}
	return b.Bytes()
}
