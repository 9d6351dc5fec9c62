package sshtest_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/ferry-deploy/ferry/runner/sshtest"
)

func connect(t *testing.T, s *sshtest.Server, auth ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User:            "tester",
		Auth:            []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey.Public),
	})
}

// keyClient starts a server with opts that trusts a new key, and connects
// to it with that key.
func keyClient(t *testing.T, opts ...sshtest.Option) (*sshtest.Server, *ssh.Client) {
	t.Helper()
	key := sshtest.NewKey(t)
	s := sshtest.New(t, append([]sshtest.Option{sshtest.WithAuthorizedKeys(key.Public)}, opts...)...)
	c, err := connect(t, s, ssh.PublicKeys(key.Signer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

func newSession(t *testing.T, c *ssh.Client) *ssh.Session {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func TestExecSFTPAndRecording(t *testing.T) {
	s, c := keyClient(t, sshtest.WithEnv("GREETING=hi"))
	sess := newSession(t, c)
	var out, errOut bytes.Buffer
	sess.Stdin, sess.Stdout, sess.Stderr = strings.NewReader("in"), &out, &errOut
	err := sess.Run(`echo "$GREETING $(pwd)"; cat; echo oops >&2; exit 3`)
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 3 {
		t.Fatalf("Run: %v", err)
	}
	if out.String() != "hi "+s.Dir+"\nin" || errOut.String() != "oops\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}

	sess, _ = c.NewSession()
	err = sess.Run("kill -TERM $$")
	if !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Errorf("killed by a signal: %v", err)
	}

	if got := s.Commands(); len(got) != 2 || got[1] != "kill -TERM $$" {
		t.Errorf("Commands() = %q", got)
	}

	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	f, err := sc.Create("uploaded") // relative to s.Dir
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Dir, "uploaded")); string(b) != "data" {
		t.Errorf("uploaded %q", b)
	}
}

func TestPasswordAuth(t *testing.T) {
	s := sshtest.New(t, sshtest.WithPassword("tester", "pw"))
	if c, err := connect(t, s, ssh.Password("pw")); err != nil {
		t.Errorf("right password: %v", err)
	} else {
		// The server counts a connection once its handshake returns, which
		// may come after the client's; a session is served only after it.
		if sess, err := c.NewSession(); err != nil {
			t.Errorf("session: %v", err)
		} else {
			sess.Close()
		}
		c.Close()
	}
	if _, err := connect(t, s, ssh.Password("nope")); err == nil {
		t.Error("wrong password accepted")
	}
	if s.Connections() != 1 {
		t.Errorf("Connections() = %d, want 1", s.Connections())
	}
}

func TestDropOnSession(t *testing.T) {
	_, c := keyClient(t, sshtest.WithDropOnSession(2))
	if err := newSession(t, c).Run("true"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewSession(); err == nil {
		t.Error("second session opened on a dropped connection")
	}
}
