package sshx

import (
	"strings"
	"testing"
)

// TestStreamHoldsNoBufferBetweenRequests: a persistent shell's stream
// keeps a read buffer only while it reads a response (a host has four
// streams, and a thousand hosts are open at once), except for output that
// came after the response, which belongs to the next one.
func TestStreamHoldsNoBufferBetweenRequests(t *testing.T) {
	const tok = "__ferry_t"
	s := &stream{r: strings.NewReader(tok + "B\nout\n" + tok + "E0\n" + "early" + tok + "B\nnext" + tok + "E1\n")}
	out, code, err := s.response(tok, true)
	if err != nil || string(out) != "out\n" || code != 0 {
		t.Fatalf("first response: %q %d %v", out, code, err)
	}
	if string(s.buf) != "early"+tok+"B\nnext"+tok+"E1\n" {
		t.Fatalf("unconsumed output lost: %q", s.buf)
	}
	out, code, err = s.response(tok, true)
	if err != nil || string(out) != "next" || code != 1 {
		t.Fatalf("second response: %q %d %v", out, code, err)
	}
	if s.buf != nil {
		t.Errorf("the stream keeps a %d-byte buffer after its response", cap(s.buf))
	}
}
