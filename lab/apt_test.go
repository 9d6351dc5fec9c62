package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const debianSources = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main
`

func TestReadAptSources(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		files      map[string]string
		wantURIs   []string
		wantSuites [][]string
		wantErr    string
	}{
		{
			name:       "deb822",
			files:      map[string]string{"debian.sources": debianSources},
			wantURIs:   []string{"http://deb.debian.org/debian", "http://deb.debian.org/debian-security"},
			wantSuites: [][]string{{"bookworm", "bookworm-updates"}, {"bookworm-security"}},
		},
		{
			name: "one-line with options, comments, cdrom and deb-src",
			files: map[string]string{"sources.list": `# comment
deb cdrom:[Debian GNU/Linux 12]/ bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] https://mirror.example/debian/ bookworm main non-free-firmware # trailing
deb-src http://mirror.example/debian bookworm main
deb http://security.example/debian-security bookworm-security main
`},
			wantURIs:   []string{"https://mirror.example/debian/", "http://security.example/debian-security"},
			wantSuites: [][]string{{"bookworm"}, {"bookworm-security"}},
		},
		{
			name:    "nothing usable",
			files:   map[string]string{"sources.list": "deb cdrom:[x]/ bookworm main\n"},
			wantErr: "no http(s) \"deb\" source",
		},
		{
			name:    "broken options",
			files:   map[string]string{"sources.list": "deb [arch=amd64 http://x/debian bookworm main\n"},
			wantErr: "unterminated",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			files := []string{filepath.Join(sub, "missing.list")}
			for name, content := range tt.files {
				files = append(files, writeFile(t, sub, name, content))
			}
			srcs, err := ReadAptSources(files)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(srcs) != len(tt.wantURIs) {
				t.Fatalf("got %d sources, want %d: %+v", len(srcs), len(tt.wantURIs), srcs)
			}
			for i, s := range srcs {
				if s.URI.String() != tt.wantURIs[i] || strings.Join(s.Suites, " ") != strings.Join(tt.wantSuites[i], " ") {
					t.Errorf("source %d = %s %v, want %s %v", i, s.URI, s.Suites, tt.wantURIs[i], tt.wantSuites[i])
				}
			}
		})
	}
}

func TestHostSourcesPointAtProxy(t *testing.T) {
	dir := t.TempDir()
	srcs, err := ReadAptSources([]string{writeFile(t, dir, "debian.sources", debianSources)})
	if err != nil {
		t.Fatal(err)
	}
	got := string(hostSources(srcs, "http://198.18.0.1:3142"))
	for _, want := range []string{
		"URIs: http://198.18.0.1:3142/deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
		"URIs: http://198.18.0.1:3142/deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main contrib\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("host sources lack\n%s\ngot:\n%s", want, got)
		}
	}
	if strings.Contains(got, "URIs: http://deb.debian.org") {
		t.Errorf("host sources name the mirror directly:\n%s", got)
	}
	m, err := debootstrapMirror(srcs, "http://198.18.0.1:3142")
	if err != nil || m != "http://198.18.0.1:3142/deb.debian.org/debian" {
		t.Errorf("debootstrap mirror = %q, %v", m, err)
	}
}

func TestProxyConf(t *testing.T) {
	dir := t.TempDir()
	srcs, err := ReadAptSources([]string{writeFile(t, dir, "debian.sources", debianSources)})
	if err != nil {
		t.Fatal(err)
	}
	p := proxy{dir: "/state/proxy", cache: "/var/cache/ferry/lab"}
	conf, err := p.renderConf(srcs)
	if err != nil {
		t.Fatal(err)
	}
	got := string(conf)
	for _, want := range []string{
		"listen 198.18.0.1:3142;",
		"pid /state/proxy/nginx.pid;",
		"proxy_http_version 1.1;", // the mirror answers 426 without it
		"location /deb.debian.org/debian/ {\n            proxy_pass http://deb.debian.org/debian/;\n            proxy_set_header Host deb.debian.org;",
		"location /deb.debian.org/debian-security/dists/ {\n            proxy_pass http://deb.debian.org/debian-security/dists/;",
		"proxy_cache_path /var/cache/ferry/lab/apt ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("nginx.conf lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "location /deb.debian.org/debian/ {") != 1 {
		t.Errorf("a mirror used by two suites must get one location:\n%s", got)
	}
}
