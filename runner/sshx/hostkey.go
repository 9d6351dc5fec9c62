package sshx

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsMu serialises check-then-append on known_hosts files, so that
// hosts connecting in parallel with AcceptNewHostKeys neither lose nor
// duplicate each other's lines.
var knownHostsMu sync.Mutex

// hostKeyChecker verifies one hop's host key and keeps the typed refusal,
// which x/crypto/ssh would otherwise only hand back as text.
type hostKeyChecker struct {
	file   string
	accept bool
	err    *HostKeyError
}

func (h *hostKeyChecker) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := h.verify(hostname, remote, key)
	var hk *HostKeyError
	if errors.As(err, &hk) {
		h.err = hk
	}
	return err
}

func (h *hostKeyChecker) verify(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := checkKnown(h.file, hostname, remote, key)
	var hk *HostKeyError
	if !h.accept || !errors.As(err, &hk) || hk.Kind != HostKeyUnknown {
		return err
	}
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	// Another host's connection may have written this very host meanwhile.
	err = checkKnown(h.file, hostname, remote, key)
	if !errors.As(err, &hk) || hk.Kind != HostKeyUnknown {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(h.file), 0o700); err != nil {
		return fmt.Errorf("known_hosts %s: %w", h.file, err)
	}
	f, err := os.OpenFile(h.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("known_hosts %s: %w", h.file, err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key) + "\n"
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("known_hosts %s: %w", h.file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("known_hosts %s: %w", h.file, err)
	}
	return nil
}

// checkKnown checks key against file; a missing file knows no host.
func checkKnown(file, hostname string, remote net.Addr, key ssh.PublicKey) error {
	refuse := func(kind HostKeyKind, line int) error {
		return &HostKeyError{Host: knownhosts.Normalize(hostname), Kind: kind,
			Fingerprint: ssh.FingerprintSHA256(key), KnownHosts: file, Line: line}
	}
	cb, err := knownhosts.New(file)
	if errors.Is(err, os.ErrNotExist) {
		return refuse(HostKeyUnknown, 0)
	}
	if err != nil {
		return fmt.Errorf("known_hosts %s: %w", file, err)
	}
	err = cb(hostname, remote, key)
	var (
		ke *knownhosts.KeyError
		re *knownhosts.RevokedError
	)
	_, isCert := key.(*ssh.Certificate)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return refuse(HostKeyRevoked, re.Revoked.Line)
	case errors.As(err, &ke):
		// A @cert-authority line vouches for certificates; it is not a
		// key the host had before, so a plain key is unknown, not changed.
		ca := caLines(file)
		for _, w := range ke.Want {
			if !ca[w.Line] {
				return refuse(HostKeyChanged, w.Line)
			}
		}
		return refuse(HostKeyUnknown, 0)
	case isCert:
		// Fails closed: a certificate whose CA is not trusted for this
		// host, or that is expired or names other principals.
		hk := refuse(HostKeyUntrustedCert, 0).(*HostKeyError)
		hk.Detail = err.Error()
		return hk
	}
	return fmt.Errorf("known_hosts %s: %w", file, err)
}

// caLines returns the numbers (from 1) of the @cert-authority lines of a
// known_hosts file.
func caLines(file string) map[int]bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	out := map[int]bool{}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "@cert-authority") {
			out[i+1] = true
		}
	}
	return out
}

// certAlgorithms are the host certificate algorithms, offered first for a
// host that a @cert-authority line covers, as OpenSSH does.
var certAlgorithms = []string{
	ssh.CertAlgoED25519v01, ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
	ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01,
}

var (
	probeOnce sync.Once
	probeKey  ssh.PublicKey
)

// knownAlgorithms lists the host key algorithms of the keys known for
// hostname, so that the server is asked for a key we can verify: otherwise
// a host known by its ed25519 key may present its RSA key and look changed.
func knownAlgorithms(file, hostname string) []string {
	probeOnce.Do(func() {
		pub, _, err := ed25519.GenerateKey(nil)
		if err == nil {
			probeKey, _ = ssh.NewPublicKey(pub)
		}
	})
	cb, err := knownhosts.New(file)
	if err != nil || probeKey == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(cb(hostname, &net.TCPAddr{IP: net.IPv4zero}, probeKey), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a ...string) {
		for _, x := range a {
			if !seen[x] {
				seen[x] = true
				algos = append(algos, x)
			}
		}
	}
	ca := caLines(file)
	for _, k := range ke.Want {
		if ca[k.Line] {
			add(certAlgorithms...)
		}
	}
	for _, k := range ke.Want {
		if ca[k.Line] {
			continue
		}
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}
