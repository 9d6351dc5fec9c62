package adhoc

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// slowConn delivers everything the server sends rtt late: every exchange
// the client waits for costs one rtt, as on a network of that latency. It
// also counts flights: server data arriving after the client wrote, that
// is the exchanges on the wire, whatever the machine's load.
type slowConn struct {
	net.Conn
	rtt     time.Duration
	chunks  chan chunk
	rest    []byte
	err     error
	wrote   atomic.Bool
	flights atomic.Int64
}

func (s *slowConn) Write(p []byte) (int, error) {
	s.wrote.Store(true)
	return s.Conn.Write(p)
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
			if n > 0 && s.wrote.Swap(false) {
				s.flights.Add(1)
			}
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

// benchHosts is how many hosts BenchmarkRunRoundTrips runs on.
var benchHosts = 100

// BenchmarkRunRoundTrips runs one command on 100 in-process SSH hosts,
// each behind a link of 20ms round trip, and reports how many round trips
// the command costs per host beyond opening the connection: counted on the
// wire (exchanges/host: server replies to client writes after Dial
// returned), and timed (rtt/host: the median over hosts of (run time -
// connect time) / rtt, which on a loaded machine also holds CPU queueing);
// and the executor calls (ferry's "round_trips").
func BenchmarkRunRoundTrips(b *testing.B) {
	hosts, rtt := benchHosts, 20*time.Millisecond
	key := sshtest.NewKey(b)
	keyFile := key.WriteFile(b, "")
	var invHosts []*inventory.Host
	cfgs := map[string]sshx.Config{}
	var connMu sync.Mutex
	conns := map[string]*slowConn{}
	for i := range benchHosts {
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
				sc := newSlowConn(c, rtt)
				connMu.Lock()
				conns[name] = sc
				connMu.Unlock()
				return sc, nil
			},
		}
	}
	var perHost, exchanges []float64
	calls := 0
	for b.Loop() {
		var mu sync.Mutex
		connect := map[string]time.Duration{}
		atConnect := map[string]int64{}
		results := Run(context.Background(), invHosts, Options{
			Script: "echo ok", Forks: hosts,
			Connect: func(ctx context.Context, h *inventory.Host) (executor.Executor, error) {
				start := time.Now()
				c, err := sshx.Dial(ctx, cfgs[h.Name])
				mu.Lock()
				connect[h.Name] = time.Since(start)
				connMu.Lock()
				atConnect[h.Name] = conns[h.Name].flights.Load()
				connMu.Unlock()
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
			connMu.Lock()
			exchanges = append(exchanges, float64(conns[r.Host].flights.Load()-atConnect[r.Host]))
			connMu.Unlock()
		}
	}
	sort.Float64s(perHost)
	sort.Float64s(exchanges)
	b.ReportMetric(exchanges[len(exchanges)/2], "exchanges/host")
	b.ReportMetric(perHost[len(perHost)/2], "rtt/host")
	b.ReportMetric(float64(calls)/float64(len(perHost)), "calls/host")
}

func BenchmarkRunRoundTripsOneHost(b *testing.B) {
	saved := benchHosts
	benchHosts = 1
	defer func() { benchHosts = saved }()
	BenchmarkRunRoundTrips(b)
}
