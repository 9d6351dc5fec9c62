package templates

import (
	"errors"
	"fmt"
)

// PKI issues the lab's TLS certificates for the labCA and labCert
// functions; package pki's LabCA is the one ferry uses. The engine only
// adapts template arguments to it.
type PKI interface {
	// CertPEM returns the CA certificate, PEM-encoded.
	CertPEM() (string, error)
	// Issue returns a certificate and its private key, PEM-encoded, for
	// cn and names.
	Issue(cn string, names []string) (string, error)
}

var errNoPKI = errors.New("no PKI folder configured for the lab CA")

func (e *Engine) labCA() (string, error) {
	if e.opts.PKI == nil {
		return "", errNoPKI
	}
	return e.opts.PKI.CertPEM()
}

// labCert returns a PEM certificate followed by its PEM private key for
// cn and the given names. sans may be strings or lists of strings (sprig's
// list); names that parse as IP addresses become IP SANs.
func (e *Engine) labCert(cn string, sans ...any) (string, error) {
	names, err := flattenNames(sans)
	if err != nil {
		return "", err
	}
	if e.opts.PKI == nil {
		return "", errNoPKI
	}
	return e.opts.PKI.Issue(cn, names)
}

// flattenNames returns sans as one list of strings.
func flattenNames(sans []any) ([]string, error) {
	var names []string
	var add func(v any) error
	add = func(v any) error {
		switch x := v.(type) {
		case string:
			names = append(names, x)
		case []string:
			names = append(names, x...)
		case []any:
			for _, s := range x {
				if err := add(s); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("a name must be a string or a list of strings, got %T", v)
		}
		return nil
	}
	for _, s := range sans {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return names, nil
}
