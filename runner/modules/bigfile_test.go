package modules

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyBigFilePlansWithoutDiff: planning a change to a big file neither
// reads the old content nor builds a diff of it (a 200 MB file took 2 GB
// of memory on the controller): the change is summed up in a line.
func TestCopyBigFilePlansWithoutDiff(t *testing.T) {
	tg, rec, _ := sshTarget(t)
	dest := filepath.Join(t.TempDir(), "big.bin")
	old := bytes.Repeat([]byte("old line of a big file\n"), (4<<20)/23)
	writeFile(t, dest, old, 0o644)
	content := strings.Repeat("new line of a big file\n", (4<<20)/23)
	rec.reset()
	c, err := newModule(t, "copy", map[string]any{"dest": dest, "content": content}).Plan(t.Context(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Changed || len(c.Diff) > 500 || !strings.Contains(c.Diff, "too large") {
		t.Errorf("diff of %d bytes: %.300q", len(c.Diff), c.Diff)
	}
	if n := rec.reset(); n != 1 {
		t.Errorf("plan made %d round trips (the old content read?), want 1", n)
	}
	converge(t, tg, rec, "copy", map[string]any{"dest": dest, "content": content + "more\n"})
}

// BenchmarkCopyPlanBig plans a change to a 32 MB file over SSH; its B/op
// is what the controller allocates for one plan.
func BenchmarkCopyPlanBig(b *testing.B) {
	tg := localTargetB(b)
	dest := filepath.Join(b.TempDir(), "big.bin")
	line := "a line of a big file\n"
	writeFile(b, dest, bytes.Repeat([]byte("old "+line), (32<<20)/25), 0o644)
	content := strings.Repeat("new "+line, (32<<20)/25)
	b.ReportAllocs()
	for b.Loop() {
		spec, _ := Lookup("copy")
		m, err := spec.New(map[string]any{"dest": dest, "content": content})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Plan(context.Background(), tg); err != nil {
			b.Fatal(err)
		}
	}
}
