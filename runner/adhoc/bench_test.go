package adhoc

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// slowConn delivers everything the server sends rtt late: every exchange
// the client waits for costs one rtt, as on a network of that latency.
type slowConn struct {
	net.Conn
	rtt    time.Duration
	chunks chan chunk
	rest   []byte
	err    error
}

type chunk struct {
	at   time.Time
	data []byte
	err  error
}

func newSlowConn(c net.Conn, rtt time.Duration) *slowConn {
	s := &slowConn{Conn: c, rtt: rtt, chunks: make(chan chunk, 1024)}
	go func() {
		for {
			buf := make([]byte, 32<<10)
			n, err := c.Read(buf)
			s.chunks <- chunk{at: time.Now().Add(rtt), data: buf[:n], err: err}
			if err != nil {
				close(s.chunks)
				return
			}
		}
	}()
	return s
}

func (s *slowConn) Read(p []byte) (int, error) {
	for len(s.rest) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		c, ok := <-s.chunks
		if !ok {
			return 0, s.err
		}
		time.Sleep(time.Until(c.at))
		s.rest, s.err = c.data, c.err
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}

// BenchmarkRunRoundTrips runs one command on 100 in-process SSH hosts,
// each behind a link of 20ms round trip, and reports how many round trips
// the command costs per host beyond opening the connection (the median
// over hosts of (run time - connect time) / rtt), and the executor calls.
// The figure is the "about one SSH round trip per host".
func BenchmarkRunRoundTrips(b *testing.B) {
	const hosts, rtt = 100, 20 * time.Millisecond
	key := sshtest.NewKey(b)
	keyFile := key.WriteFile(b, "")
	var invHosts []*inventory.Host
	cfgs := map[string]sshx.Config{}
	for i := range hosts {
		srv := sshtest.New(b, sshtest.WithAuthorizedKeys(key.Public))
		name := fmt.Sprintf("h%03d", i)
		invHosts = append(invHosts, &inventory.Host{Name: name})
		cfgs[name] = sshx.Config{
			Host: name, Address: srv.Host, Port: srv.Port, User: "root",
			PrivateKeys: []string{keyFile}, KnownHostsFile: srv.WriteKnownHosts(b),
			ConnectTimeout: 30 * time.Second, SSHConfigFile: "none",
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return newSlowConn(c, rtt), nil
			},
		}
	}
	var perHost []float64
	calls := 0
	for b.Loop() {
		var mu sync.Mutex
		connect := map[string]time.Duration{}
		results := Run(context.Background(), invHosts, Options{
			Script: "echo ok", Forks: hosts,
			Connect: func(ctx context.Context, h *inventory.Host) (executor.Executor, error) {
				start := time.Now()
				c, err := sshx.Dial(ctx, cfgs[h.Name])
				mu.Lock()
				connect[h.Name] = time.Since(start)
				mu.Unlock()
				return c, err
			},
		})
		for _, r := range results {
			if r.Err != nil || r.Stdout != "ok\n" {
				b.Fatalf("%s: %q %v", r.Host, r.Stdout, r.Err)
			}
			perHost = append(perHost, float64(r.Duration-connect[r.Host])/float64(rtt))
			calls += r.Calls
		}
	}
	sort.Float64s(perHost)
	b.ReportMetric(perHost[len(perHost)/2], "rtt/host")
	b.ReportMetric(float64(calls)/float64(len(perHost)), "calls/host")
}
