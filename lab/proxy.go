package lab

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/template"
	"time"
)

// The proxy is a dedicated nginx: its config, pid and logs live in the lab's
// state dir (so down can remove them) and its cache outside it (so the next
// lab reuses it).
type proxy struct {
	dir   string // StateDir/proxy
	cache string // CacheDir
	// listen is the address the proxy serves on; zero means the nspawn
	// lab's BridgeAddress (the Vagrant lab uses VMGateway).
	listen netip.Addr
}

func (p proxy) addr() netip.Addr {
	if p.listen.IsValid() {
		return p.listen
	}
	return BridgeAddress
}

func (p proxy) conf() string    { return filepath.Join(p.dir, "nginx.conf") }
func (p proxy) pidFile() string { return filepath.Join(p.dir, "nginx.pid") }

// URL is the base the hosts' apt sources point at.
func (p proxy) URL() string { return fmt.Sprintf("http://%s:%d", p.addr(), ProxyPort) }

// isOurs matches this proxy's nginx master, whose title keeps the -c path.
func (p proxy) isOurs(args []string) bool {
	line := strings.Join(args, " ")
	return strings.Contains(line, "nginx") && strings.Contains(line, p.conf())
}

func (p proxy) pid() int { return readPidFile(p.pidFile(), p.isOurs) }

// proxyConf is the whole nginx configuration. Index files (dists/) expire
// after minutes and are revalidated, packages (pool/) never change under a
// name and are kept for a year; a stale answer beats none when the mirror is
// away. Upstream caching headers are ignored because some mirrors forbid
// caching that is harmless for a package archive.
var proxyConf = template.Must(template.New("nginx").Parse(`# Written by ferry lab up; rewritten on every run.
daemon on;
user www-data;
worker_processes 2;
pid {{.Pid}};
error_log {{.Dir}}/error.log warn;
events { worker_connections 512; }
http {
    log_format lab '$remote_addr "$request" $status $body_bytes_sent cache=$upstream_cache_status';
    access_log {{.Dir}}/access.log lab;
    client_body_temp_path {{.Cache}}/tmp/body;
    proxy_temp_path {{.Cache}}/tmp/proxy;
    fastcgi_temp_path {{.Cache}}/tmp/fastcgi;
    uwsgi_temp_path {{.Cache}}/tmp/uwsgi;
    scgi_temp_path {{.Cache}}/tmp/scgi;
    proxy_cache_path {{.Cache}}/apt levels=1:2 keys_zone=ferry_lab_apt:16m max_size=8g inactive=365d use_temp_path=off;

    proxy_cache ferry_lab_apt;
    proxy_http_version 1.1;
    proxy_cache_lock on;
    proxy_cache_revalidate on;
    proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
    proxy_ignore_headers Cache-Control Expires Set-Cookie Vary X-Accel-Expires;
    proxy_ssl_server_name on;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;

    server {
        listen {{.Listen}};
        add_header X-Ferry-Cache $upstream_cache_status always;
{{- range .Mirrors}}
        location {{.Path}}/dists/ {
            proxy_pass {{.Upstream}}/dists/;
            proxy_set_header Host {{.Host}};
            proxy_cache_valid 200 10m;
        }
        location {{.Path}}/ {
            proxy_pass {{.Upstream}}/;
            proxy_set_header Host {{.Host}};
            proxy_cache_valid 200 365d;
        }
{{- end}}
        location / { return 404; }
    }
}
`))

type proxyMirror struct{ Path, Upstream, Host string }

// renderConf returns the nginx config for these mirrors.
func (p proxy) renderConf(srcs []AptSource) ([]byte, error) {
	var ms []proxyMirror
	for _, s := range mirrors(srcs) {
		up := *s.URI
		up.Path = strings.TrimSuffix(up.Path, "/")
		ms = append(ms, proxyMirror{Path: s.ProxyPath(), Upstream: up.String(), Host: s.URI.Host})
	}
	var b bytes.Buffer
	err := proxyConf.Execute(&b, map[string]any{
		"Pid": p.pidFile(), "Dir": p.dir, "Cache": p.cache, "Mirrors": ms,
		"Listen": fmt.Sprintf("%s:%d", p.addr(), ProxyPort),
	})
	return b.Bytes(), err
}

// ensure starts the proxy, or reloads it when its config changed; an
// unchanged running proxy is left alone. The bridge address must exist.
func (p proxy) ensure(ctx context.Context, srcs []AptSource) error {
	conf, err := p.renderConf(srcs)
	if err != nil {
		return fmt.Errorf("proxy config: %w", err)
	}
	for _, d := range []string{p.dir, filepath.Join(p.cache, "tmp"), filepath.Join(p.cache, "apt")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("proxy dir %s: %w", d, err)
		}
	}
	old, _ := os.ReadFile(p.conf())
	changed := !bytes.Equal(old, conf)
	if changed {
		if err := writeFileAtomic(p.conf(), conf, 0o644); err != nil {
			return fmt.Errorf("proxy config: %w", err)
		}
	}
	if err := run(ctx, "nginx", "-t", "-q", "-c", p.conf(), "-e", filepath.Join(p.dir, "error.log")); err != nil {
		return fmt.Errorf("proxy config %s: %w", p.conf(), err)
	}
	if pid := p.pid(); pid != 0 {
		if !changed {
			return nil
		}
		if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
			return fmt.Errorf("reload proxy pid %d: %w", pid, err)
		}
		return nil
	}
	// nginx forks its master and returns once the config is loaded and the
	// socket is bound, so success here means the proxy answers.
	if err := run(ctx, "nginx", "-c", p.conf(), "-e", filepath.Join(p.dir, "error.log")); err != nil {
		return fmt.Errorf("start proxy: %w", err)
	}
	return nil
}

// stop ends every nginx running this proxy's config, recorded or not.
func (p proxy) stop(ctx context.Context) error {
	pids := findProcs(p.isOurs)
	if len(pids) == 0 {
		return nil
	}
	// SIGTERM is nginx's fast shutdown; the master waits for its workers.
	if err := terminate(ctx, pids, syscall.SIGTERM, 10*time.Second); err != nil {
		return fmt.Errorf("stop proxy: %w", err)
	}
	return nil
}

// writeFileAtomic writes through a temp file and a rename, so a reader never
// sees half a file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
