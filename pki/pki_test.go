package templates

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

const certText = `{{ labCert "www.ferry.test" (list "lb.ferry.test" "198.18.0.10") }}`

func render(t *testing.T, e *Engine, text string) string {
	t.Helper()
	out, err := e.Render("tls.pem.tmpl", text, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// splitPEM returns the certificate and key blocks of labCert's output.
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
	e := New(Options{PKIDir: dir})
	caPEM := render(t, e, "{{ labCA }}")
	cert, keyBlock := splitPEM(t, render(t, e, certText))

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		t.Fatalf("labCA is not a PEM certificate:\n%s", caPEM)
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

func TestLabCertStableAcrossEngines(t *testing.T) {
	dir := t.TempDir()
	first := render(t, New(Options{PKIDir: dir}), "{{ labCA }}"+certText)
	second := New(Options{PKIDir: dir})
	if again := render(t, second, "{{ labCA }}"+certText); again != first {
		t.Error("a second Engine on the same PKI folder issued another CA or certificate")
	}
	// The same names in another order are the same certificate.
	reordered := render(t, second, `{{ labCert "www.ferry.test" (list "198.18.0.10" "lb.ferry.test" "www.ferry.test") }}`)
	if !strings.HasSuffix(first, reordered) {
		t.Error("reordering the SANs issued another certificate")
	}
	// Other names are another certificate.
	if other := render(t, second, `{{ labCert "www.ferry.test" (list "lb2.ferry.test") }}`); strings.HasSuffix(first, other) {
		t.Error("different SANs reused the same certificate")
	}
}

func TestLabCertReissuedWhenCAChanges(t *testing.T) {
	dir := t.TempDir()
	first := render(t, New(Options{PKIDir: dir}), certText)
	for _, f := range []string{caKeyFile, caCertFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	e := New(Options{PKIDir: dir})
	second := render(t, e, certText)
	if second == first {
		t.Fatal("a certificate signed by the removed CA was reused")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(render(t, e, "{{ labCA }}")))
	cert, _ := splitPEM(t, second)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "www.ferry.test"}); err != nil {
		t.Errorf("reissued certificate: %v", err)
	}
}

func TestLabCertConcurrent(t *testing.T) {
	dir := t.TempDir()
	// Two Engines, as two plans in one process would have, many hosts each.
	engines := []*Engine{New(Options{PKIDir: dir}), New(Options{PKIDir: dir})}
	outs := make([]string, 16)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := engines[i%2].Render("t", "{{ labCA }}"+certText, nil)
			if err != nil {
				t.Error(err)
			}
			outs[i] = out
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
	tests := []struct {
		opts       Options
		text, want string
	}{
		{Options{}, `{{ labCA }}`, "t:1: labCA: no PKI folder configured for the lab CA"},
		{Options{PKIDir: t.TempDir()}, `{{ labCert "" }}`, "t:1: labCert: empty common name"},
		{Options{PKIDir: t.TempDir()}, `{{ labCert "x" 3 }}`, "t:1: labCert: a name must be a string or a list of strings, got int"},
	}
	for _, tt := range tests {
		_, err := New(tt.opts).Render("t", tt.text, nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: %v, want %s", tt.text, err, tt.want)
		}
	}
}
