package sshx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// batchFrame runs each read's script in a subshell of one shell, so that a
// batch of reads costs one round trip, and spawns one process per read
// besides the read's own: on these hosts a process costs milliseconds, and
// a batch holds tens of reads. A read's stdout and stderr go straight to
// the batch's own streams, never through a pipe, a command substitution or
// od (each a process). After each read the frame writes a newline and a
// marker line on both streams, the one on stdout with the read's exit
// status:
//
//	stdout: OUTPUT "\n" TOKEN " " STATUS "\n"
//	stderr: OUTPUT "\n" TOKEN "\n"
//
// The token is random, made for this batch and unset before a read's
// script runs, so that no output can forge a marker, not even the content
// of a file an attacker wrote on the host for ferry to read.
const batchFrame = `LC_ALL=C; export LC_ALL
r() {
  ( unset __ferry_b; eval "$1" ) </dev/null
  printf '\n%s %d\n' "$__ferry_b" "$?"
  printf '\n%s\n' "$__ferry_b" >&2
}
`

// batchReadLimit is the largest file a batch carries (ReadFile): hex
// doubles it, and a larger one is better read on its own.
const batchReadLimit = 1 << 20

// exitTooLarge is the exit status of a batched read of a larger file.
const exitTooLarge = 67

// ReadBatch answers reads in one round trip per become setting (reads
// with stdin or environment are not batched: Skipped).
func (c *Client) ReadBatch(ctx context.Context, reads []executor.Read) ([]executor.ReadAnswer, error) {
	out := make([]executor.ReadAnswer, len(reads))
	for _, become := range []bool{false, true} {
		var idx, statIdx []int
		var statPaths []string
		var script strings.Builder
		token, err := batchToken()
		if err != nil {
			return nil, err
		}
		script.WriteString(batchFrame + "__ferry_b=" + token + "\n")
		for i, r := range reads {
			if r.Become != become {
				continue
			}
			if r.Kind == executor.ReadStat {
				if err := checkPath(r.Path); err != nil {
					out[i].Err = fmt.Errorf("stat %s: %w", r.Path, err)
					continue
				}
				statIdx = append(statIdx, i)
				statPaths = append(statPaths, r.Path)
				continue
			}
			s, err := c.readScript(r)
			if err != nil {
				out[i].Err = err
				continue
			}
			if s == "" {
				out[i].Skipped = true
				continue
			}
			idx = append(idx, i)
			script.WriteString("r " + quote(s) + "\n")
		}
		if len(statPaths) > 0 {
			script.WriteString("r " + quote(statsRead(statPaths)) + "\n")
		}
		if len(idx) == 0 && len(statPaths) == 0 {
			continue
		}
		script.WriteString("exit 0\n")
		res, err := c.Run(ctx, executor.Command{Script: script.String(), Become: become})
		if err != nil {
			return nil, err
		}
		want := len(idx)
		if len(statPaths) > 0 {
			want++
		}
		results, err := parseBatch(res, token)
		if err != nil || len(results) != want {
			return nil, fmt.Errorf("batched reads on %s: %d answers for %d reads: %v (%s)", c.target.name, len(results), want, err, remoteMessage(res))
		}
		for k, i := range idx {
			out[i] = c.readAnswer(reads[i], results[k])
		}
		if len(statPaths) > 0 {
			answers, ok := parseStats(results[len(idx)], statPaths, c.target.name)
			for k, i := range statIdx {
				if !ok {
					out[i].Skipped = true // no GNU find: the single call stats it
					continue
				}
				out[i] = answers[k]
			}
		}
	}
	return out, nil
}

// readScript is the script of one read, "" for a read the batch does not carry.
func (c *Client) readScript(r executor.Read) (string, error) {
	switch r.Kind {
	case executor.ReadContent:
		if err := checkPath(r.Path); err != nil {
			return "", fmt.Errorf("read %s: %w", r.Path, err)
		}
		return "p=" + quote(r.Path) + "\n" +
			`if [ ! -e "$p" ]; then exit ` + itoa(exitMissing) + "; fi\n" +
			`n=$(wc -c <"$p") || exit 1` + "\n" +
			`[ "$n" -le ` + itoa(batchReadLimit) + ` ] || exit ` + itoa(exitTooLarge) + "\n" +
			`exec cat "$p"`, nil
	}
	in, ok := executor.BatchStdin(r.Cmd)
	if !ok {
		return "", nil
	}
	script, err := preamble(r.Cmd.Env, r.Cmd.Script)
	if err != nil {
		return "", err
	}
	if in == nil {
		return script, nil
	}
	// The shell's builtin printf feeds stdin from the script itself: the
	// bytes never reach a command line, a file or a here-document (bash
	// writes those to temporary files).
	return "printf '" + octalEscaped(in) + "' | {\n" + script + "\n}", nil
}

// octalEscaped writes b for a printf format: letters and digits as they
// are, every other byte as a three-digit octal escape (never %, \ or ').
func octalEscaped(b []byte) string {
	var s strings.Builder
	s.Grow(len(b) * 2)
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			s.WriteByte(c)
			continue
		}
		fmt.Fprintf(&s, "\\%03o", c)
	}
	return s.String()
}

// readAnswer turns a read's result into what the single call returns.
func (c *Client) readAnswer(r executor.Read, res executor.Result) executor.ReadAnswer {
	switch r.Kind {
	case executor.ReadContent:
		switch res.ExitCode {
		case 0:
			return executor.ReadAnswer{Content: res.Stdout}
		case exitMissing:
			return executor.ReadAnswer{Err: fmt.Errorf("read %s on %s: %w", r.Path, c.target.name, fs.ErrNotExist)}
		case exitTooLarge:
			return executor.ReadAnswer{Skipped: true}
		}
		return executor.ReadAnswer{Err: fmt.Errorf("read %s on %s: %s", r.Path, c.target.name, remoteMessage(res))}
	}
	return executor.ReadAnswer{Result: res}
}

// batchToken is a batch's marker: 128 random bits.
func batchToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "__ferry_batch_" + hex.EncodeToString(b), nil
}

// parseBatch splits batchFrame's two streams into one result per read.
func parseBatch(res executor.Result, token string) ([]executor.Result, error) {
	var results []executor.Result
	out, errOut := res.Stdout, res.Stderr
	outMark, errMark := []byte("\n"+token+" "), []byte("\n"+token+"\n")
	for len(out) > 0 {
		i := bytes.Index(out, outMark)
		if i < 0 {
			return results, fmt.Errorf("output after the last read: %q", out)
		}
		stdout := out[:i]
		status, after, ok := bytes.Cut(out[i+len(outMark):], []byte("\n"))
		code, err := strconv.Atoi(string(status))
		if !ok || err != nil {
			return results, fmt.Errorf("bad status %q", status)
		}
		out = after
		j := bytes.Index(errOut, errMark)
		if j < 0 {
			return results, fmt.Errorf("stderr of read %d has no end", len(results)+1)
		}
		stderr := errOut[:j]
		errOut = errOut[j+len(errMark):]
		results = append(results, executor.Result{Stdout: bytes.Clone(stdout), Stderr: bytes.Clone(stderr), ExitCode: code})
	}
	// What the shell itself says after the last read (nothing, today)
	// belongs to no read.
	return results, nil
}
