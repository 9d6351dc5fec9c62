package executor

import (
	"io/fs"
	"testing"
)

func TestModeBitsRoundTrip(t *testing.T) {
	for _, bits := range []uint32{0o644, 0o600, 0o755, 0o4755, 0o2750, 0o1777, 0o7777, 0} {
		m := ModeFromBits(bits)
		if got := ModeBits(m); got != bits {
			t.Errorf("ModeBits(ModeFromBits(%04o)) = %04o", bits, got)
		}
	}
	if m := ModeFromBits(0o2750); m&fs.ModeSetgid == 0 || m.Perm() != 0o750 {
		t.Errorf("ModeFromBits(02750) = %v", m)
	}
}
