package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner"
)

// shardSite is five hosts in a group rolled out two at a time.
func shardSite(t *testing.T) (*site, string) {
	s := newSite(t, []string{"h01", "h02", "h03", "h04", "h05"})
	s.role("app", countingRole, nil)
	inv := s.write("inventory.yml", s.connection()+"vars: {port_setting: 80}\ngroups:\n  site:\n    roles: [app]\n    serial: 2\n    hosts:\n"+s.hostLines("      "), 0o644)
	return s, inv
}

// decodeRecap reads the recap line of a deploy's JSON output.
func decodeRecap(t *testing.T, out string) runner.Recap {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rc runner.Recap
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rc); err != nil || rc.Event != "recap" {
		t.Fatalf("no recap line (%v) in\n%s", err, out)
	}
	return rc
}

// TestDeployShardsMergeToOneRun deploys the site as three shards: every
// host is in exactly one shard, the merged recap of the shards' check runs
// is the recap of one check run, and after the real shards one whole run
// has nothing left to change.
func TestDeployShardsMergeToOneRun(t *testing.T) {
	s, inv := shardSite(t)
	ctx := context.Background()
	whole := ferryRun(ctx, t, "deploy", "-i", inv, "--check", "-o", "json")
	if whole.code != exitOK {
		t.Fatalf("check run: exit %d: %v\n%s", whole.code, whole.err, whole.stdout)
	}
	for _, check := range []bool{true, false} {
		var files []string
		seen := map[string]int{}
		for i := 1; i <= 3; i++ {
			args := []string{"deploy", "-i", inv, "-o", "json", "--shard", fmt.Sprintf("%d/3", i)}
			if check {
				args = append(args, "--check")
			}
			r := ferryRun(ctx, t, args...)
			if r.code != exitOK {
				t.Fatalf("shard %d/3: exit %d: %v\n%s", i, r.code, r.err, r.stdout)
			}
			rc := decodeRecap(t, r.stdout)
			if rc.Shard != fmt.Sprintf("%d/3", i) {
				t.Errorf("shard %d/3: recap shard %q", i, rc.Shard)
			}
			for h := range rc.Hosts {
				seen[h]++
			}
			files = append(files, s.write(fmt.Sprintf("shard-%t-%d.json", check, i), r.stdout, 0o644))
		}
		for _, h := range s.Names {
			if seen[h] != 1 {
				t.Errorf("check %t: host %s in %d shards, want 1 (%v)", check, h, seen[h], seen)
			}
		}
		m := ferryRun(ctx, t, append([]string{"recap", "merge", "-o", "json"}, files...)...)
		if m.code != exitOK {
			t.Fatalf("merge: exit %d: %v\n%s", m.code, m.err, m.stdout)
		}
		merged := decodeRecap(t, m.stdout)
		if part := ferryRun(ctx, t, "recap", "merge", files[0], files[2]); part.code != exitBadInput || !strings.Contains(part.stderr, "shard 2/3 is missing") {
			t.Errorf("merge without shard 2/3: exit %d, %q; want %d naming the missing shard", part.code, part.stderr, exitBadInput)
		}
		if check {
			want := decodeRecap(t, whole.stdout)
			merged.DurationMS, want.DurationMS = 0, 0
			if !reflect.DeepEqual(merged, want) {
				t.Errorf("merged check recap\n%s\nwant (one run)\n%s", m.stdout, whole.stdout)
			}
		} else if merged.Changed != 3*len(s.Names) {
			t.Errorf("merged real recap: changed %d, want %d", merged.Changed, 3*len(s.Names))
		}
	}
	after := ferryRun(ctx, t, "deploy", "-i", inv, "-o", "json")
	if rc := decodeRecap(t, after.stdout); after.code != exitOK || rc.Changed != 0 || len(rc.Hosts) != len(s.Names) {
		t.Errorf("whole run after the shards: exit %d, changed %d on %d hosts, want 0 on %d", after.code, rc.Changed, len(rc.Hosts), len(s.Names))
	}
}

// TestDeployShardBadInput: a bad --shard is bad input, found before any
// host is connected to.
func TestDeployShardBadInput(t *testing.T) {
	s, inv := shardSite(t)
	for _, spec := range []string{"0/3", "4/3", "3", "a/b", "1/0", "-1/2"} {
		r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--shard", spec)
		if r.code != exitBadInput || !strings.Contains(r.stderr, "--shard") || !strings.Contains(r.stderr, "I/N") {
			t.Errorf("--shard %s: exit %d, stderr %q; want %d naming --shard and I/N", spec, r.code, r.stderr, exitBadInput)
		}
	}
	r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--check", "--out", filepath.Join(t.TempDir(), "plan"), "--shard", "1/2")
	if r.code != exitBadInput {
		t.Errorf("--shard with --out: exit %d, want %d", r.code, exitBadInput)
	}
	for _, n := range s.Names {
		if c := s.Servers[n].Connections(); c != 0 {
			t.Errorf("%s: %d connections after bad input", n, c)
		}
	}
}

// TestDeployShardEmpty: more shards than hosts leaves some without hosts;
// they succeed with an empty recap that merges.
func TestDeployShardEmpty(t *testing.T) {
	s, inv := shardSite(t) // batches of 2: 3 units
	r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--check", "-o", "json", "--shard", "4/4")
	if r.code != exitOK || len(decodeRecap(t, r.stdout).Hosts) != 0 {
		t.Fatalf("empty shard: exit %d, %v\n%s%s", r.code, r.err, r.stdout, r.stderr)
	}
	for _, n := range s.Names {
		if c := s.Servers[n].Connections(); c != 0 {
			t.Errorf("%s: %d connections from an empty shard", n, c)
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecapMergeExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := write("ok.json", `{"event":"task","host":"a","status":"ok"}
{"event":"recap","hosts":{"a":{"ok":1,"changed":0,"failed":0,"skipped":0,"unreachable":false,"round_trips":2,"tasks":1}},"changed":0,"failed":0,"unreachable":0,"check":false,"duration_ms":5}
`)
	failed := write("failed.json", `{"event":"recap","hosts":{"b":{"ok":0,"changed":0,"failed":1,"skipped":0,"unreachable":false,"round_trips":1,"tasks":1}},"changed":0,"failed":1,"unreachable":0,"check":false,"duration_ms":7}`)
	unreach := write("unreach.json", `{"event":"recap","hosts":{"c":{"ok":0,"changed":0,"failed":0,"skipped":0,"unreachable":true,"round_trips":0,"tasks":0}},"changed":0,"failed":0,"unreachable":1,"check":false,"duration_ms":3}`)
	interrupted := write("intr.json", `{"event":"recap","hosts":{"d":{"ok":1,"changed":0,"failed":0,"skipped":0,"unreachable":false,"round_trips":1,"tasks":1}},"changed":0,"failed":0,"unreachable":0,"check":false,"interrupted":true,"duration_ms":3}`)
	checkChanged := write("check1.json", `{"event":"recap","hosts":{"e":{"ok":0,"changed":1,"failed":0,"skipped":0,"unreachable":false,"round_trips":1,"tasks":1}},"changed":1,"failed":0,"unreachable":0,"check":true,"duration_ms":3}`)
	checkClean := write("check0.json", `{"event":"recap","hosts":{"f":{"ok":1,"changed":0,"failed":0,"skipped":0,"unreachable":false,"round_trips":1,"tasks":1}},"changed":0,"failed":0,"unreachable":0,"check":true,"duration_ms":3}`)
	human := write("human.txt", "RECAP\n  a ok=1\n")
	logs := write("logs.txt", "ferry: warning: something\n"+strings.ReplaceAll(string(mustRead(t, ok)), "\n{\"event\":\"recap", "\nshard 1/2\n{\"event\":\"recap"))
	broken := write("broken.json", "{\"event\":\"task\"}\n{\"event\": oops\n")
	adhoc := write("adhoc.json", `{"event":"recap","ok":1,"failed":0,"unreachable":0}`)
	noRecap := write("norecap.json", `{"event":"task","host":"a","status":"ok"}`)
	shard := func(name, spec, host string) string {
		return write(name, `{"event":"recap","hosts":{"`+host+`":{"ok":1,"changed":0,"failed":0,"skipped":0,"unreachable":false,"round_trips":1,"tasks":1}},"changed":0,"failed":0,"unreachable":0,"check":false,"duration_ms":3,"shard":"`+spec+`"}`)
	}
	s1, s2, s3 := shard("s1.json", "1/3", "x1"), shard("s2.json", "2/3", "x2"), shard("s3.json", "3/3", "x3")
	s2of2, s2again := shard("s2of2.json", "2/2", "y"), shard("s2b.json", "2/3", "z")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"ok", []string{ok}, exitOK, ""},
		{"failed wins over ok", []string{ok, failed}, exitFailed, ""},
		{"unreachable wins over failed", []string{failed, unreach, ok}, exitUnreachable, ""},
		{"interrupted", []string{ok, interrupted}, exitFailed, "interrupted"},
		{"check changes, detailed", []string{"--detailed-exitcode", checkClean, checkChanged}, exitDrift, ""},
		{"check changes, not detailed", []string{checkClean, checkChanged}, exitOK, ""},
		{"check clean, detailed", []string{"--detailed-exitcode", checkClean}, exitOK, ""},
		{"detailed on real runs", []string{"--detailed-exitcode", ok}, exitBadInput, "--check"},
		{"host twice", []string{ok, ok}, exitBadInput, "ok.json: host a is in two recaps"},
		{"check and real", []string{ok, checkClean}, exitBadInput, "check0.json: a check run and a real run"},
		{"human output", []string{ok, human}, exitBadInput, "human.txt: no recap line"},
		{"stderr mixed in (pod logs)", []string{logs}, exitOK, ""},
		{"broken JSON line", []string{broken}, exitBadInput, "broken.json:2:"},
		{"ferry run recap", []string{adhoc}, exitBadInput, "adhoc.json:1:"},
		{"no recap", []string{noRecap}, exitBadInput, "norecap.json: no recap line"},
		{"every shard", []string{s3, s1, s2}, exitOK, ""},
		{"a shard missing", []string{s1, s3}, exitBadInput, "shard 2/3 is missing"},
		{"a shard twice", []string{s1, s2, s2again, s3}, exitBadInput, "s2b.json: shard 2/3 again (also in " + s2},
		{"splits differ", []string{s1, s2of2}, exitBadInput, "s2of2.json: shard 2/2 of a split in 2"},
		{"shard and whole run", []string{s1, ok}, exitBadInput, "ok.json: not the recap of a shard"},
		{"whole run and shard", []string{ok, s1}, exitBadInput, "s1.json: the recap of shard 1/3"},
		{"missing file", []string{filepath.Join(dir, "nope.json")}, exitBadInput, "nope.json"},
		{"no file", nil, exitBadInput, "recap files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ferryRun(context.Background(), t, append([]string{"recap", "merge"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.stderr)
			}
			if tc.code != exitBadInput && !strings.Contains(r.stdout, "RECAP") {
				t.Errorf("no human recap printed:\n%s", r.stdout)
			}
		})
	}
	// The merged JSON recap sums the shards and keeps the longest duration.
	r := ferryRun(context.Background(), t, "recap", "merge", "-o", "json", ok, failed, unreach)
	rc := decodeRecap(t, r.stdout)
	if len(rc.Hosts) != 3 || rc.Failed != 1 || rc.Unreachable != 1 || rc.DurationMS != 7 || rc.Hosts["a"].RoundTrips != 2 {
		t.Errorf("merged: %s", r.stdout)
	}
}
