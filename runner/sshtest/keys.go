package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Key is a freshly generated ed25519 key pair for tests.
type Key struct {
	// Private is the raw key, for agents (agent.AddedKey.PrivateKey).
	Private ed25519.PrivateKey
	// Signer signs with the key (client or host key).
	Signer ssh.Signer
	// Public is the public half, for WithAuthorizedKeys.
	Public ssh.PublicKey
}

// NewKey generates an ed25519 key pair; it fails the test on error.
func NewKey(t testing.TB) *Key {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("public key: %v", err)
	}
	return &Key{Private: priv, Signer: signer, Public: sshPub}
}

// WriteFile writes the private key in OpenSSH format to a 0600 file in a
// temp dir and returns its path. A non-empty passphrase encrypts it.
func (k *Key) WriteFile(t testing.TB, passphrase string) string {
	t.Helper()
	var (
		block *pem.Block
		err   error
	)
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(k.Private, "ferry test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(k.Private, "ferry test", []byte(passphrase))
	}
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("write key: %v", err)
	}
	return path
}

// KnownHostsLine returns the known_hosts line that trusts key for the
// address (host:port), in the bracketed form ssh uses for non-22 ports.
func KnownHostsLine(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, key)
}
