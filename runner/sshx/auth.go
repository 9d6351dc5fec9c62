package sshx

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// errNoAuth: there is no key to offer at all.
var errNoAuth = errors.New("no private key or ssh-agent to authenticate with")

// envPassphrase is the default Config.Passphrase.
func envPassphrase(path string) ([]byte, error) {
	if p, ok := os.LookupEnv(PassphraseEnv); ok {
		return []byte(p), nil
	}
	return nil, fmt.Errorf("key %s is encrypted and %s is not set", path, PassphraseEnv)
}

// loadSigner reads a private key file, asking for its passphrase if it is
// encrypted. Errors name the file, never the passphrase.
func loadSigner(path string, passphrase func(string) ([]byte, error)) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return nil, fmt.Errorf("private key %s: %w", path, err)
		}
		return signer, nil
	}
	if passphrase == nil {
		passphrase = envPassphrase
	}
	pass, err := passphrase(path)
	if err != nil {
		return nil, fmt.Errorf("private key %s: passphrase: %w", path, err)
	}
	signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, pass)
	if err != nil {
		// x/crypto's message carries no secret, but say it plainly.
		return nil, fmt.Errorf("private key %s: cannot decrypt (wrong passphrase?)", path)
	}
	return signer, nil
}

// authenticator holds the signers of every hop and the agent connection,
// which lives only as long as Dial.
type authenticator struct {
	passphrase func(string) ([]byte, error)
	agent      agent.ExtendedAgent
	agentConn  io.Closer
	keys       map[string]ssh.Signer
}

func newAuthenticator(cfg Config) *authenticator {
	a := &authenticator{passphrase: cfg.Passphrase, keys: map[string]ssh.Signer{}}
	if sock := os.Getenv("SSH_AUTH_SOCK"); cfg.UseAgent && sock != "" {
		// An unreachable agent is not fatal: key files may still do.
		if conn, err := net.Dial("unix", sock); err == nil {
			a.agent, a.agentConn = agent.NewClient(conn), conn
		}
	}
	return a
}

func (a *authenticator) close() {
	if a.agentConn != nil {
		a.agentConn.Close()
	}
}

// method offers the hop's key files, then the agent's keys, as a single
// "publickey" method: x/crypto/ssh tries each method name only once.
func (a *authenticator) method(keyFiles []string) (ssh.AuthMethod, error) {
	var signers []ssh.Signer
	for _, p := range keyFiles {
		s, ok := a.keys[p]
		if !ok {
			var err error
			if s, err = loadSigner(p, a.passphrase); err != nil {
				return nil, err
			}
			a.keys[p] = s
		}
		signers = append(signers, s)
	}
	if len(signers) == 0 && a.agent == nil {
		return nil, errNoAuth
	}
	return ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		if a.agent == nil {
			return signers, nil
		}
		fromAgent, err := a.agent.Signers()
		if err != nil {
			return signers, nil
		}
		return append(append([]ssh.Signer(nil), signers...), fromAgent...), nil
	}), nil
}
