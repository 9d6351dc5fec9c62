// Package sshtest runs a real SSH server in-process for tests of any package:
// public-key and password auth, "exec" requests through /bin/sh, the "sftp"
// subsystem, direct-tcpip forwarding (jump host), and fault injection
// (hang before the handshake, drop a connection mid-upload or on a session).
// It listens on 127.0.0.1 only and is torn down by t.Cleanup.
package sshtest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Server is a running in-process SSH server.
type Server struct {
	// Addr is "127.0.0.1:PORT".
	Addr string
	// Host and Port split Addr.
	Host string
	Port int
	// HostKey is the server's host key.
	HostKey *Key
	// Dir is the working directory of exec requests and the SFTP root's
	// working directory (relative paths resolve here).
	Dir string

	t    testing.TB
	opts options
	ln   net.Listener
	wg   sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	conns     map[net.Conn]struct{}
	commands  []string
	nConns    int
	nSessions int
	dropped   bool
	startups  int // handshakes in progress
	nRefused  int // connections dropped by WithMaxStartups
}

type options struct {
	authorized  []ssh.PublicKey
	passwords   map[string]string
	hostKey     *Key
	hang        bool
	dropUpload  int64 // 0: never
	dropSession int   // 0: never
	jump        bool
	pathPrefix  []string
	env         []string
	maxStartups int // 0: no limit
}

// Option configures a Server.
type Option func(*options)

// WithAuthorizedKeys accepts these public keys for any user.
func WithAuthorizedKeys(keys ...ssh.PublicKey) Option {
	return func(o *options) { o.authorized = append(o.authorized, keys...) }
}

// WithPassword accepts password authentication for user.
func WithPassword(user, password string) Option {
	return func(o *options) {
		if o.passwords == nil {
			o.passwords = map[string]string{}
		}
		o.passwords[user] = password
	}
}

// WithHostKey uses key as the host key instead of a generated one.
func WithHostKey(key *Key) Option { return func(o *options) { o.hostKey = key } }

// WithHang makes the server accept TCP connections and then never speak,
// so that clients can test their handshake timeout.
func WithHang() Option { return func(o *options) { o.hang = true } }

// WithDropAfterUploadBytes closes the first connection whose SFTP
// subsystem has received n bytes from the client, simulating a cut
// mid-transfer. Later connections are served normally, so a client can
// reconnect to clean up.
func WithDropAfterUploadBytes(n int64) Option { return func(o *options) { o.dropUpload = n } }

// WithDropOnSession closes the connection when the nth session channel
// (counted across the server's life, from 1) is opened.
func WithDropOnSession(n int) Option { return func(o *options) { o.dropSession = n } }

// WithJumpHost allows direct-tcpip forwarding to loopback addresses, so the
// server can act as a bastion in front of other test servers.
func WithJumpHost() Option { return func(o *options) { o.jump = true } }

// WithPath puts dir first on the PATH of exec requests (for fake commands
// such as a test sudo).
func WithPath(dir string) Option {
	return func(o *options) { o.pathPrefix = append(o.pathPrefix, dir) }
}

// WithEnv adds "KEY=value" entries to the environment of exec requests.
func WithEnv(kv ...string) Option { return func(o *options) { o.env = append(o.env, kv...) } }

// WithMaxStartups drops a connection that arrives while n handshakes are
// in progress, as OpenSSH's MaxStartups does (the client sees the
// connection closed or reset before or during the handshake).
func WithMaxStartups(n int) Option { return func(o *options) { o.maxStartups = n } }

// Refused returns how many connections WithMaxStartups dropped.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nRefused
}

// New starts a server on 127.0.0.1:0 and registers its shutdown with
// t.Cleanup. Without WithAuthorizedKeys or WithPassword nobody can log in.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, conns: map[net.Conn]struct{}{}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.HostKey = s.opts.hostKey
	if s.HostKey == nil {
		s.HostKey = NewKey(t)
	}
	s.Dir = t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshtest: listen: %v", err)
	}
	s.ln = ln
	s.Addr = ln.Addr().String()
	host, port, _ := net.SplitHostPort(s.Addr)
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, closes every connection, kills running commands
// and waits for its goroutines. It is called by t.Cleanup.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

// Commands returns every exec command line received so far, in order.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

// Connections returns how many SSH connections completed the handshake.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nConns
}

// KnownHostsLine returns the known_hosts line trusting this server.
func (s *Server) KnownHostsLine() string { return KnownHostsLine(s.Addr, s.HostKey.Public) }

// WriteKnownHosts writes a known_hosts file trusting this server (plus any
// extra lines) into a temp dir and returns its path.
func (s *Server) WriteKnownHosts(t testing.TB, extra ...string) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(s.KnownHostsLine() + "\n")
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatalf("sshtest: write known_hosts: %v", err)
	}
	return path
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			if s.opts.hang {
				// Hold the socket open without a word until the client or
				// Close gives up on it.
				_, _ = io.Copy(io.Discard, c)
				return
			}
			s.serveConn(c)
		}()
	}
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) sshConfig() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{}
	if len(s.opts.authorized) > 0 {
		cfg.PublicKeyCallback = func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range s.opts.authorized {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, errors.New("sshtest: key not authorized")
		}
	}
	if len(s.opts.passwords) > 0 {
		cfg.PasswordCallback = func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if want, ok := s.opts.passwords[m.User()]; ok && want == string(pw) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("sshtest: wrong password")
		}
	}
	cfg.AddHostKey(s.HostKey.Signer)
	return cfg
}

// startup counts a handshake in; false means the connection is dropped.
func (s *Server) startup() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.maxStartups > 0 && s.startups >= s.opts.maxStartups {
		s.nRefused++
		return false
	}
	s.startups++
	return true
}

func (s *Server) serveConn(c net.Conn) {
	if !s.startup() {
		return
	}
	sc, chans, reqs, err := ssh.NewServerConn(c, s.sshConfig())
	s.mu.Lock()
	s.startups--
	s.mu.Unlock()
	if err != nil {
		return
	}
	defer sc.Close()
	s.mu.Lock()
	s.nConns++
	s.mu.Unlock()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			if s.countSession() {
				c.Close()
				nc.Reject(ssh.ConnectionFailed, "dropped")
				continue
			}
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serveSession(c, ch, creqs)
			}()
		case "direct-tcpip":
			if !s.opts.jump {
				nc.Reject(ssh.Prohibited, "forwarding disabled")
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.forward(nc)
			}()
		default:
			nc.Reject(ssh.UnknownChannelType, "unsupported channel type")
		}
	}
}

// countSession counts a new session and reports whether the connection
// must be dropped on it.
func (s *Server) countSession() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nSessions++
	return s.opts.dropSession > 0 && s.nSessions == s.opts.dropSession
}

// shouldDropUpload reports, once per server, that an upload has crossed the
// configured byte count.
func (s *Server) shouldDropUpload(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.dropUpload <= 0 || s.dropped || n < s.opts.dropUpload {
		return false
	}
	s.dropped = true
	return true
}

func (s *Server) record(cmd string) {
	s.mu.Lock()
	s.commands = append(s.commands, cmd)
	s.mu.Unlock()
}
