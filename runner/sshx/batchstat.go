package sshx

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// statsScript describes every path in "$@" with two starts of GNU find and
// one of sha256sum, where statScript costs two or three processes per path
// (on the lab's hosts a process costs about 1.5 ms, and a host's plan stats
// tens of paths). It prints, NUL-terminated, a record of three fields per
// path that exists: the path, "TYPE MODE OWNER GROUP SIZE UID GID" and a
// link's target; then an empty field; then sha256sum's "HASH  PATH" for each
// regular file. find -P describes a link itself, as statScript does; its
// paths are absolute (checkPath), never taken for an expression.
//
// The script proves its tools as it goes rather than with probes of their
// own (two processes more): the first record is always "/", which a find
// without -printf (busybox, BSD) does not print, and sha256sum hashes
// /dev/null first, which one without -z (coreutils before 8.30) does not.
// parseStats then reports the host unsupported, and each path is stat'ed on
// its own.
const statsScript = `find -P / "$@" -maxdepth 0 -printf '%p\0%y %m %u %g %s %U %G\0%l\0' 2>/dev/null
printf '\0'
find -P "$@" -maxdepth 0 -type f -exec sha256sum -z -- ` + statsProbe + ` {} + 2>/dev/null
exit 0`

// statsProbe is the file statsScript always hashes first, and
// statsProbeSum its hash (of nothing).
const (
	statsProbe    = "/dev/null"
	statsProbeSum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// statsRead is one read standing for the stat reads of paths.
func statsRead(paths []string) string {
	words := make([]string, len(paths))
	for i, p := range paths {
		words[i] = quote(p)
	}
	return "set -- " + strings.Join(words, " ") + "\n" + statsScript
}

// parseStats turns statsScript's output into one answer per path (in the
// order of paths); ok is false where the host could not run it.
func parseStats(res executor.Result, paths []string, host string) ([]executor.ReadAnswer, bool) {
	if !res.OK() {
		return statsFailed(paths, host, errors.New(remoteMessage(res))), true
	}
	out := make([]executor.ReadAnswer, len(paths))
	fields := bytes.Split(res.Stdout, []byte{0})
	infos := map[string]executor.FileInfo{}
	regular := map[string]bool{}
	k := 0
	for ; k+2 < len(fields) && len(fields[k]) > 0; k += 3 {
		fi, err := parseStatsRecord(string(fields[k+1]), string(fields[k+2]))
		if err != nil {
			return statsFailed(paths, host, err), true
		}
		infos[string(fields[k])] = fi
		regular[string(fields[k])] = string(fields[k+1][:1]) == "f"
	}
	if k >= len(fields) || len(fields[k]) != 0 {
		return statsFailed(paths, host, fmt.Errorf("unexpected output %q", res.Stdout)), true
	}
	if k == 0 || string(fields[0]) != "/" {
		return nil, false // no -printf: find printed nothing, "/" included
	}
	sums := map[string]string{}
	for _, f := range fields[k+1:] {
		sum, p, ok := strings.Cut(string(f), "  ")
		if ok {
			sums[p] = sum
		}
	}
	if anyRegular(regular) && sums[statsProbe] != statsProbeSum {
		return nil, false // sha256sum without -z: no sum at all
	}
	for i, p := range paths {
		fi, found := infos[p]
		switch {
		case !found:
			// Absent, or not reachable by this user: statScript says
			// "absent" for both too.
		case regular[p]:
			sum, ok := sums[p]
			if !ok {
				out[i].Err = fmt.Errorf("stat %s on %s: cannot read the file to hash it", p, host)
				continue
			}
			fi.SHA256 = sum
		}
		out[i].Info = fi
	}
	return out, true
}

// anyRegular reports whether any path is a regular file.
func anyRegular(regular map[string]bool) bool {
	for _, r := range regular {
		if r {
			return true
		}
	}
	return false
}

// findTypes names find's %y letters as statScript names the types.
var findTypes = map[string]string{"f": "file", "d": "dir", "l": "link"}

// parseStatsRecord reads "TYPE MODE OWNER GROUP SIZE UID GID" and a
// link's target.
func parseStatsRecord(line, target string) (executor.FileInfo, error) {
	f := strings.Fields(line)
	if len(f) != 7 {
		return executor.FileInfo{}, fmt.Errorf("unexpected stat line %q", line)
	}
	t, ok := findTypes[f[0]]
	if !ok {
		t = "other"
	}
	fi, err := statInfo(t, f[1:])
	if err != nil {
		return executor.FileInfo{}, fmt.Errorf("unexpected stat line %q", line)
	}
	if fi.IsLink {
		fi.LinkTo = target
	}
	return fi, nil
}

// statsFailed gives every path the same error.
func statsFailed(paths []string, host string, err error) []executor.ReadAnswer {
	out := make([]executor.ReadAnswer, len(paths))
	for i, p := range paths {
		out[i].Err = fmt.Errorf("stat %s on %s: %w", p, host, err)
	}
	return out
}
