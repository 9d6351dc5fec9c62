package progress

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a terminal stand-in that many goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDisplayConcurrentHosts drives the area from many goroutines at once,
// as the engine's hosts do, and requires that every line written above it
// arrives, in order per writer, and that Close returns.
func TestDisplayConcurrentHosts(t *testing.T) {
	var out lockedBuffer
	const hosts = 20
	d := New(&out, hosts, 8)
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("host-%02d", i)
			for step := range 5 {
				d.HostStep(name, fmt.Sprintf("task %d", step))
				fmt.Fprintf(d, "%s done task %d\n", name, step)
			}
			d.HostDone(name)
		}()
	}
	wg.Wait()
	d.Close()
	fmt.Fprintf(d, "after close\n")
	d.HostStep("late", "ignored") // no panic, no line
	d.HostDone("late")
	got := out.String()
	for i := range hosts {
		if !strings.Contains(got, fmt.Sprintf("host-%02d done task 4\n", i)) {
			t.Fatalf("line of host-%02d lost:\n%s", i, got)
		}
	}
	if !strings.Contains(got, fmt.Sprintf("hosts done %d/%d", hosts, hosts)) || !strings.HasSuffix(got, "after close\n") {
		t.Errorf("final state:\n%q", got[max(0, len(got)-300):])
	}
}
