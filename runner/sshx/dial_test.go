package sshx_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
	"golang.org/x/crypto/ssh/agent"
)

func TestKeyAuth(t *testing.T) {
	_, c := connected(t)
	res := run(t, c, executor.Command{Script: "echo out; echo err >&2; exit 7"})
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 7 {
		t.Fatalf("got %+v", res)
	}
}

func TestEncryptedKeyUsesPassphrase(t *testing.T) {
	t.Parallel() // bcrypt key derivation is slow under -race
	f := newFixture(t)
	cfg := f.config()
	cfg.PrivateKeys = []string{f.key.WriteFile(t, "open sesame")}
	var asked string
	cfg.Passphrase = func(path string) ([]byte, error) { asked = path; return []byte("open sesame"), nil }
	dial(t, cfg)
	if asked != cfg.PrivateKeys[0] {
		t.Fatalf("passphrase asked for %q, want %q", asked, cfg.PrivateKeys[0])
	}

	cfg.Passphrase = func(string) ([]byte, error) { return []byte("wrong horse"), nil }
	_, err := sshx.Dial(context.Background(), cfg)
	if sshx.Reason(err) != sshx.ReasonAuth || strings.Contains(err.Error(), "wrong horse") {
		t.Fatalf("wrong passphrase: reason %q, err %v", sshx.Reason(err), err)
	}
}

func TestAgentAuth(t *testing.T) {
	f := newFixture(t)
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: f.key.Private}); err != nil {
		t.Fatal(err)
	}
	// Unix socket paths are short; t.TempDir can be too long.
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = agent.ServeAgent(keyring, conn)
				conn.Close()
			}()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	t.Setenv("HOME", t.TempDir()) // no default identities

	cfg := f.config()
	cfg.PrivateKeys = nil
	cfg.UseAgent = true
	c := dial(t, cfg)
	if res := run(t, c, executor.Command{Script: "true"}); !res.OK() {
		t.Fatalf("got %+v", res)
	}

	cfg.UseAgent = false
	_, err = sshx.Dial(context.Background(), cfg)
	if !errors.Is(err, executor.ErrUnreachable) || sshx.Reason(err) != sshx.ReasonAuth {
		t.Fatalf("without agent: reason %q, err %v", sshx.Reason(err), err)
	}
}

func TestWrongKeyIsAuthFailure(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.PrivateKeys = []string{sshtest.NewKey(t).WriteFile(t, "")}
	_, err := sshx.Dial(context.Background(), cfg)
	wantUnreachable(t, err, sshx.ReasonAuth)
}

func TestUnknownHostKeyRefused(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts") // missing
	_, err := sshx.Dial(context.Background(), cfg)
	var hk *sshx.HostKeyError
	if !errors.As(err, &hk) || hk.Kind != sshx.HostKeyUnknown {
		t.Fatalf("want unknown host key error, got %v", err)
	}
	wantUnreachable(t, err, sshx.ReasonHostKey)
	if !strings.Contains(err.Error(), "--accept-new-host-keys") || !strings.Contains(err.Error(), "ssh-keyscan") {
		t.Errorf("message does not say how to proceed: %v", err)
	}
	if want := "[127.0.0.1]:"; !strings.HasPrefix(hk.Host, want) || hk.Fingerprint == "" {
		t.Errorf("HostKeyError = %+v", hk)
	}
	if _, statErr := os.Stat(cfg.KnownHostsFile); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("known_hosts written without --accept-new-host-keys")
	}
}

func TestChangedHostKeyRefusedEvenWithAcceptNew(t *testing.T) {
	f := newFixture(t)
	other := sshtest.NewKey(t)
	cfg := f.config()
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	line := sshtest.KnownHostsLine(f.srv.Addr, other.Public) + "\n"
	writeFile(t, cfg.KnownHostsFile, line, 0o600)
	cfg.AcceptNewHostKeys = true

	_, err := sshx.Dial(context.Background(), cfg)
	var hk *sshx.HostKeyError
	if !errors.As(err, &hk) || hk.Kind != sshx.HostKeyChanged || hk.Line != 1 {
		t.Fatalf("want changed host key error on line 1, got %v", err)
	}
	if !strings.Contains(err.Error(), "CHANGED") {
		t.Errorf("refusal is not loud: %v", err)
	}
	if got := readFile(t, cfg.KnownHostsFile); got != line {
		t.Errorf("known_hosts modified:\n%s", got)
	}
}

func TestAcceptNewHostKeysWritesKnownHosts(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "sub", "known_hosts")
	cfg.AcceptNewHostKeys = true
	c := dial(t, cfg)
	c.Close()

	fi, err := os.Stat(cfg.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode %v, want 0600", fi.Mode().Perm())
	}
	if got, want := readFile(t, cfg.KnownHostsFile), f.srv.KnownHostsLine()+"\n"; got != want {
		t.Errorf("known_hosts = %q, want %q", got, want)
	}
	// Now known: no flag needed, and nothing appended twice.
	cfg.AcceptNewHostKeys = false
	dial(t, cfg)
	cfg.AcceptNewHostKeys = true
	dial(t, cfg)
	if got := strings.Count(readFile(t, cfg.KnownHostsFile), "\n"); got != 1 {
		t.Errorf("known_hosts has %d lines, want 1", got)
	}
}

func TestAcceptNewHostKeysConcurrentHosts(t *testing.T) {
	known := filepath.Join(t.TempDir(), "known_hosts")
	const n = 8
	fixtures := newFixtures(t, n)
	concurrently(n, func(i int) {
		cfg := fixtures[i].config()
		cfg.KnownHostsFile, cfg.AcceptNewHostKeys = known, true
		c, err := sshx.Dial(context.Background(), cfg)
		if err != nil {
			t.Error(err)
			return
		}
		c.Close()
	})
	got := readFile(t, known)
	for _, f := range fixtures {
		if !strings.Contains(got, f.srv.KnownHostsLine()+"\n") {
			t.Errorf("known_hosts lacks %s", f.srv.Addr)
		}
	}
}

func TestJumpHost(t *testing.T) {
	target := newFixture(t)
	bastion := sshtest.New(t, sshtest.WithJumpHost(), sshtest.WithAuthorizedKeys(target.key.Public))
	cfg := target.config()
	cfg.KnownHostsFile = bastion.WriteKnownHosts(t, target.srv.KnownHostsLine())
	cfg.Jump = []sshx.JumpHost{{Address: bastion.Host, Port: bastion.Port, User: "jump"}}
	// Only the bastion may be dialled directly.
	cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != bastion.Addr {
			return nil, errors.New("direct dial to " + addr + " refused by test")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c := dial(t, cfg)
	res := run(t, c, executor.Command{Script: "echo via bastion"})
	if string(res.Stdout) != "via bastion\n" {
		t.Fatalf("got %+v", res)
	}
	if bastion.Connections() != 1 || target.srv.Connections() != 1 {
		t.Errorf("connections: bastion %d, target %d", bastion.Connections(), target.srv.Connections())
	}

	// The bastion's host key is checked too.
	cfg.KnownHostsFile = target.srv.WriteKnownHosts(t)
	_, err := sshx.Dial(context.Background(), cfg)
	var hk *sshx.HostKeyError
	if !errors.As(err, &hk) || hk.Host != "[127.0.0.1]:"+itoa(bastion.Port) {
		t.Fatalf("want bastion host key refused, got %v", err)
	}
}

func TestHangingServerTimesOut(t *testing.T) {
	f := newFixture(t, sshtest.WithHang())
	cfg := f.config()
	cfg.ConnectTimeout = 300 * time.Millisecond
	_, err := sshx.Dial(context.Background(), cfg)
	wantUnreachable(t, err, sshx.ReasonTimeout)
}

func TestRefusedAndRetries(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.ConnectRetries = 2
	var attempts atomic.Int32
	cfg.DialContext = func(context.Context, string, string) (net.Conn, error) {
		attempts.Add(1)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	_, err := sshx.Dial(context.Background(), cfg)
	if sshx.Reason(err) != sshx.ReasonRefused || attempts.Load() != 3 {
		t.Fatalf("reason %q after %d attempts: %v", sshx.Reason(err), attempts.Load(), err)
	}

	// Auth failures are never retried.
	attempts.Store(0)
	cfg.PrivateKeys = []string{sshtest.NewKey(t).WriteFile(t, "")}
	cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		attempts.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	_, err = sshx.Dial(context.Background(), cfg)
	if sshx.Reason(err) != sshx.ReasonAuth || attempts.Load() != 1 {
		t.Fatalf("reason %q after %d attempts: %v", sshx.Reason(err), attempts.Load(), err)
	}
}

func TestRefusedPort(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.Port = sshtest.ClosedPort(t)
	_, err := sshx.Dial(context.Background(), cfg)
	wantUnreachable(t, err, sshx.ReasonRefused)
	if !strings.Contains(err.Error(), "web-01") {
		t.Errorf("error does not name the host: %v", err)
	}
}

func TestSSHConfigFile(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, "Host web-alias\n  HostName 127.0.0.1\n  Port "+itoa(f.srv.Port)+
		"\n  User deploy\n  IdentityFile "+f.keyF+"\n", 0o600)
	c := dial(t, sshx.Config{Host: "web-alias", KnownHostsFile: f.known, SSHConfigFile: path})
	if c.User() != "deploy" {
		t.Errorf("user %q, want deploy", c.User())
	}
}
