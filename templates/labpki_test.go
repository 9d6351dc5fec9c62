package templates

import (
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/pki"
)

// TestLabPKIFunctions: labCA and labCert hand the PKI the names a template
// gives, lists flattened, and report its errors at the template's line.
func TestLabPKIFunctions(t *testing.T) {
	ca := pki.New(t.TempDir())
	e := New(Options{PKI: ca})
	out, err := e.Render("t", `{{ labCA }}{{ labCert "www.ferry.test" (list "lb.ferry.test" "198.18.0.10") "x.test" }}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := ca.CertPEM()
	leaf, _ := ca.Issue("www.ferry.test", []string{"198.18.0.10", "lb.ferry.test", "x.test"})
	if out != caPEM+leaf {
		t.Errorf("labCA and labCert rendered\n%s\nwant the PKI's CA and the certificate for all four names", out)
	}
	if !strings.Contains(out, "BEGIN CERTIFICATE") {
		t.Errorf("no certificate in %q", out)
	}

	tests := []struct {
		opts       Options
		text, want string
	}{
		{Options{}, `{{ labCA }}`, "t:1: labCA: no PKI folder configured for the lab CA"},
		{Options{}, `{{ labCert "x" }}`, "t:1: labCert: no PKI folder configured for the lab CA"},
		{Options{PKI: ca}, `{{ labCert "" }}`, "t:1: labCert: empty common name"},
		{Options{PKI: ca}, `{{ labCert "x" 3 }}`, "t:1: labCert: a name must be a string or a list of strings, got int"},
	}
	for _, tt := range tests {
		_, err := New(tt.opts).Render("t", tt.text, nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: %v, want %s", tt.text, err, tt.want)
		}
	}
}
