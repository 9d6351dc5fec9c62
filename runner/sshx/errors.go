package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/ferry-deploy/ferry/runner/executor"
	"golang.org/x/crypto/ssh"
)

// Reasons returned by Reason, short enough for a table column.
const (
	ReasonAuth           = "auth"
	ReasonHostKey        = "host key"
	ReasonTimeout        = "timeout"
	ReasonRefused        = "refused"
	ReasonDNS            = "dns"
	ReasonConnectionLost = "connection lost"
	ReasonUnknown        = "unknown"
)

// HostKeyKind says why a host key was refused.
type HostKeyKind int

const (
	// HostKeyUnknown: the host is not in known_hosts.
	HostKeyUnknown HostKeyKind = iota + 1
	// HostKeyChanged: known_hosts holds another key for the host.
	HostKeyChanged
	// HostKeyRevoked: the key is marked @revoked in known_hosts.
	HostKeyRevoked
	// HostKeyUntrustedCert: the host presented a certificate that no
	// @cert-authority line of known_hosts vouches for (or an invalid one).
	HostKeyUntrustedCert
)

func (k HostKeyKind) String() string {
	switch k {
	case HostKeyUnknown:
		return "unknown"
	case HostKeyChanged:
		return "changed"
	case HostKeyRevoked:
		return "revoked"
	case HostKeyUntrustedCert:
		return "untrusted certificate"
	}
	return "invalid"
}

// HostKeyError is a refused host key. Callers decide from Kind: an unknown
// key may be accepted by the user, a changed or revoked one never silently.
type HostKeyError struct {
	// Host as known_hosts names it: "name" for port 22, "[name]:port" else.
	Host string
	Kind HostKeyKind
	// Fingerprint is the SHA256 fingerprint of the key the server presented.
	Fingerprint string
	// KnownHosts is the file consulted.
	KnownHosts string
	// Line is the known_hosts line holding the conflicting key (Changed).
	Line int
	// Detail is why a host certificate was refused (UntrustedCert).
	Detail string
}

func (e *HostKeyError) Error() string {
	switch e.Kind {
	case HostKeyUnknown:
		return fmt.Sprintf("host key for %s is unknown (%s): not in %s; verify the fingerprint, then add it (%s >> %s) or rerun with --accept-new-host-keys",
			e.Host, e.Fingerprint, e.KnownHosts, e.keyscan(), e.KnownHosts)
	case HostKeyRevoked:
		return fmt.Sprintf("HOST KEY FOR %s IS REVOKED (%s) in %s: connection refused", e.Host, e.Fingerprint, e.KnownHosts)
	case HostKeyUntrustedCert:
		return fmt.Sprintf("HOST CERTIFICATE OF %s IS NOT TRUSTED (%s): no @cert-authority line of %s vouches for it (%s): connection refused",
			e.Host, e.Fingerprint, e.KnownHosts, e.Detail)
	default:
		return fmt.Sprintf("HOST KEY FOR %s HAS CHANGED (now %s, %s:%d holds another): possible man-in-the-middle attack, connection refused; if the change is expected, remove the old key (ssh-keygen -R '%s' -f %s)",
			e.Host, e.Fingerprint, e.KnownHosts, e.Line, e.Host, e.KnownHosts)
	}
}

// keyscan is the command that fetches the host's key for known_hosts.
func (e *HostKeyError) keyscan() string {
	if strings.HasPrefix(e.Host, "[") {
		if host, port, err := net.SplitHostPort(e.Host); err == nil {
			return "ssh-keyscan -p " + port + " " + host
		}
	}
	return "ssh-keyscan " + e.Host
}

// unreachableError is a transport failure: it matches executor.ErrUnreachable
// and the underlying error, and remembers its Reason.
type unreachableError struct {
	reason string
	msg    string // "connect web-01 (10.0.0.1:22)"
	err    error
}

func (e *unreachableError) Error() string   { return e.msg + ": " + e.err.Error() }
func (e *unreachableError) Unwrap() []error { return []error{executor.ErrUnreachable, e.err} }

// unreachable wraps err as a transport failure; an empty reason is
// classified from err.
func unreachable(reason, msg string, err error) error {
	var ue *unreachableError
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", msg, err)
	}
	if reason == "" {
		reason = classify(err)
	}
	return &unreachableError{reason: reason, msg: msg, err: err}
}

// Reason names why err made a host unreachable: one of "auth", "host key",
// "timeout", "refused", "dns", "connection lost" or "unknown". It returns
// "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var ue *unreachableError
	if errors.As(err, &ue) {
		return ue.reason
	}
	return classify(err)
}

// classify guesses a Reason from an error's type, then, for the errors
// x/crypto/ssh only formats, its text.
func classify(err error) string {
	var (
		hk     *HostKeyError
		dnsErr *net.DNSError
		netErr net.Error
		missP  *ssh.PassphraseMissingError
		exitM  *ssh.ExitMissingError
	)
	switch {
	case errors.As(err, &hk):
		return ReasonHostKey
	case errors.As(err, &dnsErr):
		return ReasonDNS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonRefused
	case errors.As(err, &missP), errors.Is(err, errNoAuth):
		return ReasonAuth
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.As(err, &exitM):
		return ReasonConnectionLost
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unable to authenticate"), strings.Contains(msg, "no supported methods remain"):
		return ReasonAuth
	case strings.Contains(msg, "connection lost"):
		return ReasonConnectionLost
	}
	return ReasonUnknown
}

// retryable reports whether a connect failure may go away by itself.
func retryable(err error) bool {
	switch Reason(err) {
	case ReasonTimeout, ReasonRefused, ReasonConnectionLost, ReasonDNS:
		return true
	}
	return false
}
