package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// bootTimeout bounds one host's boot, from nspawn start to SSH answering.
const bootTimeout = 90 * time.Second

// recordFile lists the hosts a lab booted, so down also finds hosts that
// were dropped from the inventory since.
const recordFile = "lab.json"

// Up builds the lab: base, bridge, proxy, then every host that is not
// already running, and returns when all of them answer SSH with their known
// host key. Running hosts are left untouched, so a second Up is a no-op.
func Up(ctx context.Context, spec Spec) error {
	s, err := spec.withDefaults()
	if err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if s.network() != Network {
		return fmt.Errorf("the nspawn lab runs on %s only, not %s (that is the Vagrant lab's: --provider vagrant)", Network, s.network())
	}
	if err := CheckPrereqs(); err != nil {
		return err
	}
	closeInheritedOnExec()
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	log := s.logf
	srcs, err := ReadAptSources(s.AptSources)
	if err != nil {
		return err
	}
	if err := s.record(); err != nil {
		return err
	}
	if err := s.ensureKeys(ctx); err != nil {
		return err
	}
	if err := s.ensureSecrets(); err != nil {
		return err
	}
	if err := ensureBridge(ctx); err != nil {
		return err
	}
	px := proxy{dir: filepath.Join(s.StateDir, "proxy"), cache: s.CacheDir}
	if err := px.ensure(ctx, srcs); err != nil {
		return err
	}
	// debootstrap goes through the proxy too, so a rebuilt base comes from
	// the cache.
	mirror, err := debootstrapMirror(srcs, px.URL())
	if err != nil {
		return err
	}
	if err := ensureBase(ctx, s.BaseDir, mirror, log); err != nil {
		return err
	}
	sources := hostSources(srcs, px.URL())
	g, gctx := errgroup.WithContext(ctx)
	for _, h := range s.Hosts {
		g.Go(func() error { return s.upHost(gctx, h, sources) })
	}
	return g.Wait()
}

// upHost boots one host unless it runs, and waits until it is ready.
func (s Spec) upHost(ctx context.Context, h HostSpec, sources []byte) error {
	var exited <-chan struct{}
	if pid := s.hostPid(h.Name); pid != 0 {
		s.logf("%s: already running (pid %d)", h.Name, pid)
	} else {
		start := time.Now()
		// Whatever a crashed run left of this host goes first; the upper
		// dir stays, so a stopped host comes back with its disk.
		if err := removeHostNet(ctx, h.Name); err != nil {
			return err
		}
		if err := createHostNet(ctx, h); err != nil {
			return err
		}
		if err := s.prepareUpper(h, sources); err != nil {
			return err
		}
		pid, done, err := s.bootHost(h)
		if err != nil {
			return err
		}
		exited = done
		s.logf("%s: booting %s (pid %d)", h.Name, h.Address, pid)
		defer func() { s.logf("%s: ready in %s", h.Name, time.Since(start).Round(100*time.Millisecond)) }()
	}
	state, err := s.waitSSH(ctx, h, exited, bootTimeout)
	if err != nil {
		return err
	}
	if state != "running" {
		s.logf("%s: systemd is %s (see systemctl --failed on the host)", h.Name, state)
	}
	return nil
}

// Down removes everything the lab made: processes, namespaces, veths, the
// bridge, mounts, the proxy and the state files. It works from what exists
// (processes, /run/netns, bridge ports, the state dir) as well as from the
// spec and the record of the last Up, so it also cleans after a crash.
// The base and the apt cache are kept unless purge is set.
func Down(ctx context.Context, spec Spec, purge bool) error {
	s, err := spec.withDefaults()
	if err != nil {
		return err
	}
	if err := checkRoot(); err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	names := s.knownNames()
	var errs []error
	// Every nspawn of this lab, running a spec'd host or not.
	var killed *KilledError
	if err := stopHosts(ctx, findProcs(s.isLabNspawn)); errors.As(err, &killed) {
		// Down wants the hosts gone, and they are: a shutdown that hung
		// (a unit's stop job) is worth a word, not a failed teardown.
		s.logf("lab down: warning: %v", err)
	} else if err != nil {
		errs = append(errs, err)
	}
	for _, n := range names {
		if err := removeHostNet(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	px := proxy{dir: filepath.Join(s.StateDir, "proxy"), cache: s.CacheDir}
	if err := px.stop(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := removeBridge(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, n := range names {
		if err := s.removeHostState(n); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range []string{filepath.Join(s.StateDir, "hosts"), filepath.Join(s.StateDir, "proxy")} {
		if err := removeTree(p); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range []string{s.KeyFile, s.KeyFile + ".pub", s.KnownHostsFile, filepath.Join(s.StateDir, recordFile), filepath.Join(s.StateDir, vagrantFile), filepath.Join(s.StateDir, vagrantSSHConfig), s.SecretsFile(), s.SecretsFile() + ".tmp"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", f, err))
		}
	}
	if purge {
		for _, p := range []string{s.BaseDir, s.CacheDir} {
			if err := removeTree(p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab down: %w", err)
	}
	// The lock and the state dir go last, the dir only if nothing else
	// (a user's file) is in it.
	_ = os.Remove(filepath.Join(s.StateDir, "lock"))
	_ = os.Remove(s.StateDir)
	s.logf("lab down: removed %d hosts, bridge %s and the proxy", len(names), BridgeName)
	return nil
}

// knownNames unions the spec's hosts, the last Up's record and the host
// dirs found in the state dir.
func (s Spec) knownNames() []string {
	set := map[string]bool{}
	for _, h := range s.Hosts {
		set[h.Name] = true
	}
	var rec []HostSpec
	if data, err := os.ReadFile(filepath.Join(s.StateDir, recordFile)); err == nil && json.Unmarshal(data, &rec) == nil {
		for _, h := range rec {
			set[h.Name] = true
		}
	}
	ents, _ := os.ReadDir(filepath.Join(s.StateDir, "hosts"))
	for _, e := range ents {
		if e.IsDir() {
			set[e.Name()] = true
		}
	}
	var out []string
	for n := range set {
		if hostNameRE.MatchString(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// record adds the spec's hosts to the record of what this lab made, before
// anything is made.
func (s Spec) record() error {
	rec := append([]HostSpec(nil), s.Hosts...)
	var old []HostSpec
	if data, err := os.ReadFile(filepath.Join(s.StateDir, recordFile)); err == nil && json.Unmarshal(data, &old) == nil {
		seen := map[string]bool{}
		for _, h := range rec {
			seen[h.Name] = true
		}
		for _, h := range old {
			if !seen[h.Name] {
				rec = append(rec, h)
			}
		}
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("lab record: %w", err)
	}
	return writeFileAtomic(filepath.Join(s.StateDir, recordFile), append(data, '\n'), 0o644)
}

// HostStatus is one line of Status.
type HostStatus struct {
	Name, Address string
	// State is "running" or "stopped".
	State string
	Pid   int
}

// Status reports each spec'd host's state without changing anything.
func Status(spec Spec) ([]HostStatus, error) {
	s, err := spec.withDefaults()
	if err != nil {
		return nil, err
	}
	out := make([]HostStatus, 0, len(s.Hosts))
	for _, h := range s.Hosts {
		st := HostStatus{Name: h.Name, Address: h.Address, State: "stopped"}
		if pid := s.hostPid(h.Name); pid != 0 {
			st.State, st.Pid = "running", pid
		}
		out = append(out, st)
	}
	return out, nil
}

// ProxyRunning reports whether the lab's apt proxy runs.
func ProxyRunning(spec Spec) bool {
	s, err := spec.withDefaults()
	if err != nil {
		return false
	}
	return proxy{dir: filepath.Join(s.StateDir, "proxy"), cache: s.CacheDir}.pid() != 0
}

// lock serialises Up and Down on one state dir.
func (s Spec) lock() (func(), error) {
	if err := os.MkdirAll(s.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir %s: %w", s.StateDir, err)
	}
	path := filepath.Join(s.StateDir, "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: another ferry lab command runs on this state dir: %w", path, err)
	}
	return func() { f.Close() }, nil
}

func (s Spec) logf(format string, args ...any) {
	fmt.Fprintf(s.Log, format+"\n", args...)
}
