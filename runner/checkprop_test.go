package runner_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/internal/vartree"
	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/facts"
	"github.com/ferry-deploy/ferry/runner/hostconn"
	"github.com/ferry-deploy/ferry/runner/sshx"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

// The property behind check mode: for any role, what --check reports is
// what the real run then does. The test generates random roles of 3 to 12
// tasks (copy, template, line, file, commands guarded by creates, removes,
// unless and onlyif, read-only probes, register, when: on registered
// results, loops, notify and handlers) over a handful of overlapping paths, against random starting
// states of an in-process SSH host, runs each in check mode and then for
// real, and compares task by task. Cases are seeded (seed = -check.seed +
// case number), so a failure names the seed that reproduces it, and the
// failing role is shrunk to the fewest tasks that still fail.

var (
	propCases = flag.Int("check.cases", 0, "cases of the check-mode property test (default $FERRY_CHECK_CASES, else 200; make test runs 10,000)")
	propSeed  = flag.Uint64("check.seed", 1, "first seed of the check-mode property test")
)

func propCaseCount() int {
	if *propCases > 0 {
		return *propCases
	}
	if n, err := strconv.Atoi(os.Getenv("FERRY_CHECK_CASES")); err == nil && n > 0 {
		return n
	}
	return 200
}

// propPaths overlap on purpose: d holds d/e and d/f, links point between.
var propPaths = []string{"a", "b", "d", "d/e", "d/f"}

// linkTargets leave out the directory: links to it are left for later.
var linkTargets = []string{"a", "b", "d/e", "d/f"}

// propLinks adds links to the generated states and tasks: a switch to tell
// a failure that links bring from others. With it on, the test found that
// line replaced a link with a 0777 file (now it edits through the link),
// and that check mode did not follow links to predicted paths in guards,
// line and what a command writes.
const propLinks = true

var propContents = []string{"one\n", "two\n", "k=1\n", "one\nk=2\n", "", "no newline"}

// startEntry is one path of a case's starting state.
type startEntry struct {
	kind    string // file, dir, link
	content string
	mode    fs.FileMode
	link    string
}

// propCase is one generated role and the state it starts from.
type propCase struct {
	seed     uint64
	start    map[string]startEntry
	tasks    []string // YAML task blocks
	handlers []string
}

func (c propCase) roleYAML() string {
	var b strings.Builder
	b.WriteString("tasks:\n")
	for _, t := range c.tasks {
		b.WriteString(t)
	}
	b.WriteString("handlers:\n")
	for _, h := range c.handlers {
		b.WriteString(h)
	}
	return b.String()
}

func (c propCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d; starting state (under .root):\n", c.seed)
	for _, p := range propPaths {
		if e, ok := c.start[p]; ok {
			fmt.Fprintf(&b, "  %s: %s %q mode %o link %q\n", p, e.kind, e.content, e.mode, e.link)
		}
	}
	b.WriteString("role.yml:\n" + c.roleYAML())
	return b.String()
}

func genStart(r *rand.Rand) map[string]startEntry {
	st := map[string]startEntry{}
	modes := []fs.FileMode{0o644, 0o600, 0o640}
	// d first: its children exist only in a directory.
	switch r.IntN(4) {
	case 0:
	case 1:
		st["d"] = startEntry{kind: "file", content: pick(r, propContents), mode: 0o644}
	default:
		st["d"] = startEntry{kind: "dir", mode: 0o755}
	}
	for _, p := range propPaths {
		if p == "d" || strings.HasPrefix(p, "d/") && st["d"].kind != "dir" {
			continue
		}
		switch r.IntN(5) {
		case 0, 1:
		case 2:
			// Links start out pointing at regular files; tasks make
			// dangling ones.
			if to := pick(r, linkTargets); propLinks && st[to].kind == "file" {
				st[p] = startEntry{kind: "link", link: to}
			}
		default:
			st[p] = startEntry{kind: "file", content: pick(r, propContents), mode: pick(r, modes)}
		}
	}
	return st
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// genTask writes task i as YAML; registered lists the registers so far.
func genTask(r *rand.Rand, i int, registered *[]string) string {
	var b strings.Builder
	name := fmt.Sprintf("t%d", i)
	p := pick(r, propPaths)
	path := `"{{ .root }}/` + p + `"`
	loop := ""
	if r.IntN(7) == 0 {
		path = `"{{ .root }}/{{ .item }}"`
		loop = fmt.Sprintf("    loop: [%s, %s]\n", pick(r, propPaths), pick(r, propPaths))
	}
	mode := ""
	if r.IntN(3) == 0 {
		mode = fmt.Sprintf(", mode: %q", pick(r, []string{"0644", "0600"}))
	}
	reg := ""
	fmt.Fprintf(&b, "  - name: %s\n", name)
	switch k := r.IntN(22); {
	case k < 4:
		fmt.Fprintf(&b, "    copy: {content: %q, dest: %s%s}\n", pick(r, propContents), path, mode)
	case k < 6:
		fmt.Fprintf(&b, "    template: {src: t.tmpl, dest: %s%s}\n", path, mode)
	case k < 10:
		re, line := "", pick(r, []string{"k=9", "one", "extra"})
		if r.IntN(2) == 0 {
			re, line = `, regexp: "^k="`, pick(r, []string{"k=9", "k=1"})
		}
		state := "present"
		if r.IntN(5) == 0 {
			state = "absent"
		}
		fmt.Fprintf(&b, "    line: {path: %s, line: %q%s, state: %s, create: %t%s}\n",
			path, line, re, state, r.IntN(2) == 0, mode)
	case k < 13:
		states := []string{"touch", "absent", "directory", "file"}
		if propLinks {
			states = append(states, "link")
		}
		switch st := pick(r, states); st {
		case "link":
			src := pick(r, slices.DeleteFunc(slices.Clone(linkTargets), func(s string) bool { return s == p }))
			fmt.Fprintf(&b, "    file: {path: \"{{ .root }}/%s\", state: link, src: \"{{ .root }}/%s\"}\n", p, src)
			loop = ""
		case "absent":
			fmt.Fprintf(&b, "    file: {path: %s, state: absent}\n", path)
		default:
			fmt.Fprintf(&b, "    file: {path: %s, state: %s%s}\n", path, st, mode)
		}
	case k < 14:
		fmt.Fprintf(&b, "    shell: {cmd: \"echo made > {{ .root }}/%s\", creates: \"{{ .root }}/%s\"}\n", p, p)
		loop = ""
	case k < 15:
		fmt.Fprintf(&b, "    shell: {cmd: \"rm -rf {{ .root }}/%s\", removes: \"{{ .root }}/%s\"}\n", p, p)
		loop = ""
	case k < 18:
		fmt.Fprintf(&b, "    shell: {cmd: \"cat {{ .root }}/%s 2>/dev/null || echo none\"}\n", p)
		if r.IntN(2) == 0 {
			b.WriteString("    changed_when: false\n")
		} else {
			b.WriteString("    check_mode: run\n")
		}
		reg = fmt.Sprintf("r%d", i)
		loop = ""
	case k < 22:
		// Guards that read a managed path; the command itself writes
		// nothing other tasks manage (check mode's contract for commands
		// without creates or removes, doc/check-mode.md).
		guard := pick(r, []string{"unless", "onlyif"})
		fmt.Fprintf(&b, "    shell: {cmd: \"echo ran >> {{ .root }}/cmdlog\", %s: \"test -e {{ .root }}/%s\"}\n", guard, p)
		reg = fmt.Sprintf("r%d", i)
		loop = ""
	default:
		b.WriteString("    shell: {cmd: \"echo hi\"}\n")
		reg = fmt.Sprintf("r%d", i)
		loop = ""
	}
	b.WriteString(loop)
	if reg == "" && r.IntN(4) == 0 {
		reg = fmt.Sprintf("r%d", i)
	}
	if len(*registered) > 0 && r.IntN(3) == 0 {
		on := pick(r, *registered)
		switch r.IntN(3) {
		case 0:
			fmt.Fprintf(&b, "    when: 'eq .%s.stdout \"%s\"'\n", on, strings.ReplaceAll(pick(r, propContents), "\n", `\n`))
		case 1:
			fmt.Fprintf(&b, "    when: .%s.changed\n", on)
		default:
			fmt.Fprintf(&b, "    when: not .%s.skipped\n", on)
		}
	}
	if reg != "" {
		fmt.Fprintf(&b, "    register: %s\n", reg)
		*registered = append(*registered, reg)
	}
	if r.IntN(5) == 0 {
		fmt.Fprintf(&b, "    notify: h%d\n", r.IntN(2))
	}
	return b.String()
}

func genCase(seed uint64) propCase {
	r := rand.New(rand.NewPCG(seed, 0x13))
	c := propCase{seed: seed, start: genStart(r)}
	var registered []string
	for i := range 3 + r.IntN(10) {
		c.tasks = append(c.tasks, genTask(r, i, &registered))
	}
	c.handlers = []string{
		"  - name: h0\n    shell: {cmd: \"echo ran >> {{ .root }}/hlog\"}\n",
		fmt.Sprintf("  - name: h1\n    copy: {content: \"handled\\n\", dest: \"{{ .root }}/%s\"}\n", pick(r, propPaths)),
	}
	return c
}

// propRunner runs cases against one host over one connection.
type propRunner struct {
	t    *testing.T
	l    *lab
	root string
	dir  string // the role's folder
}

func newPropRunner(t *testing.T) *propRunner {
	l := newLab(t, 1, "prop")
	dir := filepath.Join(t.TempDir(), "roles")
	if err := os.MkdirAll(filepath.Join(dir, "prop", "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prop", "templates", "t.tmpl"), []byte("host {{ .inventory_hostname }}\nk=3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.rolePaths = []string{dir}
	h := l.inv.Host("h01")
	cfg := hostconn.SSHConfig(h, l.inv.Secrets, l.dir)
	cfg.SSHConfigFile = "none"
	cfg.ConnectTimeout = 10 * time.Second
	x, err := sshx.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	l.shared = x
	l.gather = cachedFacts()
	return &propRunner{t: t, l: l, root: l.roots["h01"], dir: dir}
}

// cachedFacts reads the host's facts once: they are the same for every
// case (each case starts from a wiped folder), except the handlers a run
// left pending or the hosts it drained, which are read again whenever the
// state folder holds any.
func cachedFacts() func(context.Context, executor.Executor, statedir.Where) (map[string]any, statedir.Left, error) {
	var once map[string]any
	return func(ctx context.Context, x executor.Executor, w statedir.Where) (map[string]any, statedir.Left, error) {
		_, errP := os.Stat(filepath.Join(w.Dir, "pending"))
		_, errD := os.Stat(filepath.Join(w.Dir, "drained"))
		if !errors.Is(errP, fs.ErrNotExist) || !errors.Is(errD, fs.ErrNotExist) {
			return facts.GatherIn(ctx, x, w)
		}
		if once == nil {
			f, _, err := facts.GatherIn(ctx, x, w)
			if err != nil {
				return nil, statedir.Left{}, err
			}
			once = f
		}
		// Copied: a run may change its facts.
		return vartree.Copy(once).(map[string]any), statedir.Left{}, nil
	}
}

// reset makes the host's folder the case's starting state.
func (pr *propRunner) reset(c propCase) error {
	entries, err := os.ReadDir(pr.root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(pr.root, e.Name())); err != nil {
			return err
		}
	}
	for _, p := range propPaths {
		e, ok := c.start[p]
		if !ok {
			continue
		}
		full := filepath.Join(pr.root, p)
		switch e.kind {
		case "dir":
			err = os.Mkdir(full, e.mode)
		case "link":
			err = os.Symlink(filepath.Join(pr.root, e.link), full)
		default:
			if err = os.WriteFile(full, []byte(e.content), e.mode); err == nil {
				err = os.Chmod(full, e.mode)
			}
		}
		if err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(pr.dir, "prop", "role.yml"), []byte(c.roleYAML()), 0o644)
}

// snapshot describes every path under the host's folder.
func (pr *propRunner) snapshot() string {
	var b strings.Builder
	_ = filepath.WalkDir(pr.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		fmt.Fprintf(&b, "%s %v", p, fi.Mode())
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			to, _ := os.Readlink(p)
			b.WriteString(" -> " + to)
		}
		b.WriteString("\n")
		return nil
	})
	return b.String()
}

// run runs c in check mode and for real and returns what check mode got
// wrong, or "".
func (pr *propRunner) run(c propCase) string {
	if err := pr.reset(c); err != nil {
		pr.t.Fatalf("reset: %v", err)
	}
	before := pr.snapshot()
	check, _, err := pr.l.deploy(runOpts{check: true, diff: true})
	if err != nil {
		return "check: " + err.Error()
	}
	if after := pr.snapshot(); after != before {
		return fmt.Sprintf("check mode changed the host:\nbefore:\n%safter:\n%s", before, after)
	}
	real, _, err := pr.l.deploy(runOpts{diff: true})
	if err != nil {
		return "real run: " + err.Error()
	}
	return compareRuns(check.events, real.events)
}

// evKey names one event: a loop may repeat an item, so n counts repeats.
type evKey struct {
	kind, task, item string
	n                int
}

func taskEvents(evs []runner.Event) ([]runner.Event, map[evKey]runner.Event) {
	var list []runner.Event
	by := map[evKey]runner.Event{}
	for _, ev := range evs {
		if ev.Kind == "task" || ev.Kind == "handler" {
			list = append(list, ev)
			k := evKey{ev.Kind, ev.Task, ev.Item, 0}
			for ; ; k.n++ {
				if _, dup := by[k]; !dup {
					break
				}
			}
			by[k] = ev
		}
	}
	return list, by
}

func describe(evs []runner.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "    %s %s[%s] %s %v %s\n", ev.Kind, ev.Task, ev.Item, ev.Status, ev.Summary, strings.ReplaceAll(ev.Message, "\n", " | "))
	}
	return b.String()
}

// maybeFailure finds the first real failure at a step check mode did not
// promise: its index in the real run and in check's events (-1 if none).
func maybeFailure(checkList []runner.Event, checkBy map[evKey]runner.Event, realList []runner.Event, realBy map[evKey]runner.Event) (int, int) {
	keys := keysOf(realList)
	ckeys := keysOf(checkList)
	for i, re := range realList {
		if re.Status != runner.StatusFailed {
			continue
		}
		k := keys[i]
		ce, ok := checkBy[k]
		if !ok {
			k = evKey{re.Kind, re.Task, "", 0}
			ce, ok = checkBy[k]
		}
		if !ok {
			return -1, -1
		}
		if ce.Status == runner.StatusUnknown || ce.Status == runner.StatusChanged && len(ce.Summary) > 0 && strings.HasPrefix(ce.Summary[0], "run: ") {
			return i, slices.Index(ckeys, k)
		}
		return -1, -1
	}
	return -1, -1
}

func keysOf(list []runner.Event) []evKey {
	seen := map[evKey]bool{}
	out := make([]evKey, len(list))
	for i, ev := range list {
		k := evKey{ev.Kind, ev.Task, ev.Item, 0}
		for seen[k] {
			k.n++
		}
		seen[k] = true
		out[i] = k
	}
	return out
}

func keyed(list []runner.Event) map[evKey]runner.Event {
	by := map[evKey]runner.Event{}
	for i, k := range keysOf(list) {
		by[k] = list[i]
	}
	return by
}

// compareRuns holds check mode to its promise: a task it calls changed
// changes the same way, one it calls ok or skipped changes nothing, one it
// calls failed fails; unknown may go either way, and nothing the real run
// changes or fails on goes unreported.
func compareRuns(checkEvs, realEvs []runner.Event) string {
	checkList, checkBy := taskEvents(checkEvs)
	realList, realBy := taskEvents(realEvs)
	// A task check mode could not predict (unknown, or a command that
	// would run) may fail in the real run, and then the rest of the run
	// goes another way: compare up to there.
	if cut, at := maybeFailure(checkList, checkBy, realList, realBy); cut >= 0 {
		checkList, realList = checkList[:at+1], realList[:cut+1]
		checkBy, realBy = keyed(checkList), keyed(realList)
	}
	realFailed := slices.ContainsFunc(realList, func(ev runner.Event) bool { return ev.Status == runner.StatusFailed })
	bad := func(format string, args ...any) string {
		return fmt.Sprintf(format, args...) + "\n  check:\n" + describe(checkList) + "  real:\n" + describe(realList)
	}
	for k, ce := range checkBy {
		re, seen := realBy[k]
		if !seen {
			if ce.Status != runner.StatusUnknown && !realFailed {
				return bad("%s %s[%s]: check says %s, the real run never got there", ce.Kind, ce.Task, ce.Item, ce.Status)
			}
			continue
		}
		switch ce.Status {
		case runner.StatusChanged:
			if re.Status == runner.StatusFailed && len(ce.Summary) > 0 && strings.HasPrefix(ce.Summary[0], "run: ") {
				// A command that would run has an unknown result, its
				// exit status included (doc/check-mode.md).
				continue
			}
			if re.Status != runner.StatusChanged || re.Diff != ce.Diff || !slices.Equal(re.Summary, ce.Summary) {
				return bad("%s %s[%s]: check says changed %v\n%s\nthe real run: %s %v\n%s", ce.Kind, ce.Task, ce.Item, ce.Summary, ce.Diff, re.Status, re.Summary, re.Diff)
			}
		case runner.StatusOK, runner.StatusSkipped:
			if re.Status != runner.StatusOK && re.Status != runner.StatusSkipped {
				return bad("%s %s[%s]: check says %s, the real run %s", ce.Kind, ce.Task, ce.Item, ce.Status, re.Status)
			}
		case runner.StatusFailed:
			if re.Status != runner.StatusFailed {
				return bad("%s %s[%s]: check says failed, the real run %s", ce.Kind, ce.Task, ce.Item, re.Status)
			}
		}
	}
	for k, re := range realBy {
		if re.Status != runner.StatusChanged && re.Status != runner.StatusFailed {
			continue
		}
		if _, seen := checkBy[k]; seen {
			continue
		}
		if ce, ok := checkBy[evKey{re.Kind, re.Task, "", 0}]; ok && ce.Status == runner.StatusUnknown {
			continue
		}
		return bad("%s %s[%s]: the real run %s, check mode never said so", re.Kind, re.Task, re.Item, re.Status)
	}
	return ""
}

// shrink drops tasks and handlers while the case still fails.
func (pr *propRunner) shrink(c propCase) (propCase, string) {
	why := pr.run(c)
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(c.tasks); i++ {
			smaller := c
			smaller.tasks = slices.Delete(slices.Clone(c.tasks), i, i+1)
			// A smaller role that no longer loads (a when: on a register
			// dropped with its task) fails for another reason.
			if w := pr.run(smaller); w != "" && !strings.HasPrefix(w, "check: ") {
				c, why, progress = smaller, w, true
				i--
			}
		}
	}
	return c, why
}

func TestCheckModeProperty(t *testing.T) {
	n := propCaseCount()
	// Most of a case is waiting for the host's processes, so a few hosts
	// (each its own server and connection) run cases side by side.
	workers := min(4*runtime.GOMAXPROCS(0), 8, n)
	runners := make([]*propRunner, workers)
	for i := range runners {
		runners[i] = newPropRunner(t)
	}
	start := time.Now()
	var next atomic.Int64
	var mu sync.Mutex
	var failed []uint64
	var wg sync.WaitGroup
	for _, pr := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				c := genCase(*propSeed + uint64(i))
				if why := pr.run(c); why != "" {
					mu.Lock()
					failed = append(failed, c.seed)
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		seed := slices.Min(failed)
		small, why := runners[0].shrink(genCase(seed))
		t.Fatalf("check mode disagrees with the real run (reproduce: go test ./runner -run TestCheckModeProperty -check.seed %d -check.cases 1)\nshrunk to:\n%s\n%s", seed, small, why)
	}
	t.Logf("%d cases in %v on %d hosts", n, time.Since(start), workers)
}
