package pki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// caPEM returns the CA certificate of c.
func caPEM(t *testing.T, c *LabCA) string {
	t.Helper()
	out, err := c.CertPEM()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// issue returns c's certificate and key for cn and names.
func issue(t *testing.T, c *LabCA, cn string, names ...string) string {
	t.Helper()
	out, err := c.Issue(cn, names)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// www is the certificate the tests issue most.
func www(t *testing.T, c *LabCA) string {
	return issue(t, c, "www.ferry.test", "lb.ferry.test", "198.18.0.10")
}

// splitPEM returns the certificate and key blocks of Issue's output.
func splitPEM(t *testing.T, s string) (*x509.Certificate, *pem.Block) {
	t.Helper()
	cb, rest := pem.Decode([]byte(s))
	kb, rest := pem.Decode(rest)
	if cb == nil || kb == nil || cb.Type != "CERTIFICATE" || kb.Type != "PRIVATE KEY" || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("want one CERTIFICATE then one PRIVATE KEY, got:\n%s", s)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert, kb
}

func TestLabCertVerifiesAgainstLabCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".ferry", "pki")
	c := New(dir)
	ca := caPEM(t, c)
	cert, keyBlock := splitPEM(t, www(t, c))

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(ca)) {
		t.Fatalf("CertPEM is not a PEM certificate:\n%s", ca)
	}
	for _, name := range []string{"www.ferry.test", "lb.ferry.test", "198.18.0.10"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "other.test"}); err == nil {
		t.Error("certificate verifies for a name it was not issued for")
	}
	if len(cert.IPAddresses) != 1 || !cert.IPAddresses[0].Equal(net.ParseIP("198.18.0.10")) {
		t.Errorf("IP SANs = %v, want [198.18.0.10]", cert.IPAddresses)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !samePublicKey(cert.PublicKey, key.(crypto.Signer).Public()) {
		t.Error("the private key does not belong to the certificate")
	}

	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, caKeyFile): 0o600, filepath.Join(dir, caCertFile): 0o644} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode %v, want %v", path, fi.Mode(), want)
		}
	}
	leaves, _ := filepath.Glob(filepath.Join(dir, leafDir, "*.pem"))
	for _, l := range leaves {
		if fi, err := os.Stat(l); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", l, fi.Mode(), err)
		}
	}
}

func TestLabCertStableAcrossInstances(t *testing.T) {
	dir := t.TempDir()
	first := New(dir)
	firstOut := caPEM(t, first) + www(t, first)
	second := New(dir)
	if again := caPEM(t, second) + www(t, second); again != firstOut {
		t.Error("a second LabCA on the same folder issued another CA or certificate")
	}
	// The same names in another order are the same certificate.
	reordered := issue(t, second, "www.ferry.test", "198.18.0.10", "lb.ferry.test", "www.ferry.test")
	if !strings.HasSuffix(firstOut, reordered) {
		t.Error("reordering the SANs issued another certificate")
	}
	// Other names are another certificate.
	if other := issue(t, second, "www.ferry.test", "lb2.ferry.test"); strings.HasSuffix(firstOut, other) {
		t.Error("different SANs reused the same certificate")
	}
}

func TestLabCertReissuedWhenCAChanges(t *testing.T) {
	dir := t.TempDir()
	first := www(t, New(dir))
	for _, f := range []string{caKeyFile, caCertFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	c := New(dir)
	second := www(t, c)
	if second == first {
		t.Fatal("a certificate signed by the removed CA was reused")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM(t, c)))
	cert, _ := splitPEM(t, second)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "www.ferry.test"}); err != nil {
		t.Errorf("reissued certificate: %v", err)
	}
}

func TestLabCertConcurrent(t *testing.T) {
	dir := t.TempDir()
	// Two instances, as two plans in one process would have, many hosts each.
	cas := []*LabCA{New(dir), New(dir)}
	outs := make([]string, 16)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cas[i%2]
			ca, err := c.CertPEM()
			if err != nil {
				t.Error(err)
			}
			leaf, err := c.Issue("www.ferry.test", []string{"lb.ferry.test", "198.18.0.10"})
			if err != nil {
				t.Error(err)
			}
			outs[i] = ca + leaf
		}()
	}
	wg.Wait()
	for i, o := range outs {
		if o != outs[0] {
			t.Fatalf("render %d differs from render 0", i)
		}
	}
}

func TestLabCertErrors(t *testing.T) {
	if _, err := New("").CertPEM(); err == nil || err.Error() != "no PKI folder configured for the lab CA" {
		t.Errorf("no folder: %v", err)
	}
	if _, err := New(t.TempDir()).Issue(" ", nil); err == nil || err.Error() != "empty common name" {
		t.Errorf("empty common name: %v", err)
	}
}
