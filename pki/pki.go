// Package pki is the lab's certificate authority: it creates a CA in a
// folder once and issues TLS certificates signed by it, reusing what it
// issued. Templates reach it through their labCA and labCert functions.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// The lab PKI issues certificates for the lab's TLS endpoints. Everything
// it issues is stored in its folder and reused, because a certificate that
// changed on every run would make every deploy report a change.
const (
	caKeyFile  = "ca.key"
	caCertFile = "ca.crt"
	leafDir    = "certs"

	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 825 * 24 * time.Hour // the longest lifetime clients accept
	// A leaf closer than this to its end is issued again.
	renewBefore = 30 * 24 * time.Hour
)

// LabCA is the lab's certificate authority, kept in one folder. It is safe
// for concurrent use, and separate processes sharing the folder agree on
// one CA and one certificate per set of names.
type LabCA struct {
	dir string

	// mu serialises issuing within the process; separate processes are
	// kept apart by creating every file with a hard link, which fails when
	// the file exists (see createOnce).
	mu     sync.Mutex
	caCert *x509.Certificate
	caKey  crypto.Signer
	caPEM  string
	leaves map[string]string // leafID -> cert+key PEM
}

// New returns the lab CA kept in dir (the inventory's .ferry/pki), created
// on first use. An empty dir makes every call fail.
func New(dir string) *LabCA {
	return &LabCA{dir: dir, leaves: map[string]string{}}
}

// CertPEM returns the CA's certificate, PEM-encoded.
func (p *LabCA) CertPEM() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.loadCA(); err != nil {
		return "", err
	}
	return p.caPEM, nil
}

// Issue returns a PEM certificate followed by its PEM private key for cn
// and names; names that parse as IP addresses become IP SANs. cn is always
// one of the names, because clients ignore the common name, and the same
// names in another order are the same certificate. A certificate issued
// before is reused while it is good.
func (p *LabCA) Issue(cn string, names []string) (string, error) {
	if strings.TrimSpace(cn) == "" {
		return "", errors.New("empty common name")
	}
	names = nameSet(strings.TrimSpace(cn), names)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.loadCA(); err != nil {
		return "", err
	}
	id := leafID(cn, names)
	if pemText, ok := p.leaves[id]; ok {
		return pemText, nil
	}
	pemText, err := p.leaf(id, cn, names)
	if err != nil {
		return "", err
	}
	p.leaves[id] = pemText
	return pemText, nil
}

// nameSet returns cn and names as one sorted set without blanks.
func nameSet(cn string, names []string) []string {
	set := map[string]bool{cn: true}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			set[n] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func leafID(cn string, names []string) string {
	h := sha256.Sum256([]byte(cn + "\x00" + strings.Join(names, "\x00")))
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, cn)
	if len(safe) > 64 {
		safe = safe[:64]
	}
	return safe + "-" + hex.EncodeToString(h[:8])
}

func (p *LabCA) loadCA() error {
	if p.caCert != nil {
		return nil
	}
	if p.dir == "" {
		return errors.New("no PKI folder configured for the lab CA")
	}
	if err := ensureDir(p.dir); err != nil {
		return err
	}
	keyPath := filepath.Join(p.dir, caKeyFile)
	key, err := readKey(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		var k *ecdsa.PrivateKey
		if k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return fmt.Errorf("lab CA key: %w", err)
		}
		var b []byte
		if b, err = keyPEM(k); err != nil {
			return err
		}
		if err = createOnce(keyPath, b, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		// Another process may have won the race: whatever is on disk now is the key.
		key, err = readKey(keyPath)
	}
	if err != nil {
		return fmt.Errorf("lab CA key: %w", err)
	}

	certPath := filepath.Join(p.dir, caCertFile)
	cert, err := readCert(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		var der []byte
		if der, err = selfSign(key); err != nil {
			return err
		}
		if err = createOnce(certPath, pemBlock("CERTIFICATE", der), 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		cert, err = readCert(certPath)
	}
	if err != nil {
		return fmt.Errorf("lab CA certificate: %w", err)
	}
	if !samePublicKey(cert.PublicKey, key.Public()) {
		return fmt.Errorf("lab CA: %s does not match %s; remove both to create a new CA", certPath, keyPath)
	}
	p.caCert, p.caKey, p.caPEM = cert, key, string(pemBlock("CERTIFICATE", cert.Raw))
	return nil
}

func selfSign(key crypto.Signer) ([]byte, error) {
	tmpl, err := newTemplate(pkix.Name{CommonName: "ferry lab CA", Organization: []string{"ferry"}}, caLifetime)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	tmpl.BasicConstraintsValid, tmpl.IsCA, tmpl.MaxPathLenZero = true, true, true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("lab CA certificate: %w", err)
	}
	return der, nil
}

// newTemplate starts a certificate for subject with a fresh serial, valid
// from an hour ago (clocks differ) for lifetime.
func newTemplate(subject pkix.Name, lifetime time.Duration) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{SerialNumber: serial, Subject: subject, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(lifetime)}, nil
}

// leaf returns the stored certificate for id when it is still good, and
// issues a new one otherwise.
func (p *LabCA) leaf(id, cn string, names []string) (string, error) {
	dir := filepath.Join(p.dir, leafDir)
	if err := ensureDir(dir); err != nil {
		return "", err
	}
	path := filepath.Join(dir, id+".pem")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if p.usable(b, names) {
			return string(b), nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	b, err = p.issue(cn, names)
	if err != nil {
		return "", err
	}
	if err := createOnce(path, b, 0o600); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		// Either a stale file (replace it) or another process just issued
		// one (use it, so that both processes render the same text).
		if cur, rerr := os.ReadFile(path); rerr == nil && p.usable(cur, names) {
			return string(cur), nil
		}
		if err := replace(path, b, 0o600); err != nil {
			return "", err
		}
	}
	return string(b), nil
}

// usable reports whether b holds a certificate and key for exactly names,
// signed by the current CA and not about to expire.
func (p *LabCA) usable(b []byte, names []string) bool {
	certBlock, rest := pem.Decode(b)
	keyBlock, _ := pem.Decode(rest)
	if certBlock == nil || keyBlock == nil || certBlock.Type != "CERTIFICATE" {
		return false
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil || cert.CheckSignatureFrom(p.caCert) != nil {
		return false
	}
	if time.Until(cert.NotAfter) < renewBefore {
		return false
	}
	key, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		return false
	}
	signer, ok := key.(crypto.Signer)
	if !ok || !samePublicKey(cert.PublicKey, signer.Public()) {
		return false
	}
	var got []string
	got = append(got, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		got = append(got, ip.String())
	}
	sort.Strings(got)
	return strings.Join(got, "\x00") == strings.Join(canonical(names), "\x00")
}

// canonical writes IP names the way x509 reports them, sorted.
func canonical(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			n = ip.String()
		}
		out[i] = n
	}
	sort.Strings(out)
	return out
}

func (p *LabCA) issue(cn string, names []string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl, err := newTemplate(pkix.Name{CommonName: cn, Organization: []string{"ferry lab"}}, leafLifetime)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, key.Public(), p.caKey)
	if err != nil {
		return nil, fmt.Errorf("issue certificate for %s: %w", cn, err)
	}
	kb, err := keyPEM(key)
	if err != nil {
		return nil, err
	}
	return append(pemBlock("CERTIFICATE", der), kb...), nil
}
