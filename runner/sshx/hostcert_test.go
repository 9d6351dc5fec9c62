package sshx_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// hostCertKey is a host key whose signer presents a certificate signed by ca
// for the principal 127.0.0.1.
func hostCertKey(t *testing.T, ca *sshtest.Key) *sshtest.Key {
	t.Helper()
	k := sshtest.NewKey(t)
	cert := &ssh.Certificate{
		Key: k.Public, Serial: 1, CertType: ssh.HostCert, KeyId: "test host",
		ValidPrincipals: []string{"127.0.0.1"},
		ValidAfter:      uint64(time.Now().Add(-time.Hour).Unix()),
		ValidBefore:     uint64(time.Now().Add(time.Hour).Unix()),
	}
	if err := cert.SignCert(rand.Reader, ca.Signer); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewCertSigner(cert, k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	return &sshtest.Key{Private: k.Private, Signer: signer, Public: k.Public}
}

// TestHostCertificateUnderCertAuthority: a host presenting a certificate
// signed by a CA that known_hosts trusts with @cert-authority is accepted,
// as OpenSSH does; a certificate from another CA is refused.
func TestHostCertificateUnderCertAuthority(t *testing.T) {
	ca, other := sshtest.NewKey(t), sshtest.NewKey(t)
	client := sshtest.NewKey(t)
	srv := sshtest.New(t, sshtest.WithAuthorizedKeys(client.Public), sshtest.WithHostKey(hostCertKey(t, ca)))
	known := filepath.Join(t.TempDir(), "known_hosts")
	line := func(k *sshtest.Key) string {
		return "@cert-authority [127.0.0.1]:" + itoa(srv.Port) + " " + string(ssh.MarshalAuthorizedKey(k.Public))
	}
	cfg := sshx.Config{Host: "web-01", Address: srv.Host, Port: srv.Port, User: "deploy",
		PrivateKeys: []string{client.WriteFile(t, "")}, KnownHostsFile: known,
		ConnectTimeout: 5 * time.Second, SSHConfigFile: "none"}

	writeFile(t, known, line(ca), 0o600)
	c := dial(t, cfg)
	if res := run(t, c, executor.Command{Script: "echo certified"}); string(res.Stdout) != "certified\n" {
		t.Errorf("stdout %q", res.Stdout)
	}

	writeFile(t, known, line(other), 0o600)
	_, err := sshx.Dial(context.Background(), cfg)
	if err == nil || !errors.Is(err, executor.ErrUnreachable) || sshx.Reason(err) != sshx.ReasonHostKey {
		t.Errorf("a certificate from an untrusted CA: err %v (reason %q)", err, sshx.Reason(err))
	}
	os.Remove(known)
}
