package sshx

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// batchFrame runs each read's script in a subshell of one shell, so that a
// batch of reads costs one round trip. A read's stdout is streamed through
// od as hex (binary-safe, never mistaken for a frame line), its stderr and
// exit status are kept in a variable and printed after it:
//
//	O            the read's stdout follows, hex, until
//	E            its stderr follows, hex, until
//	C STATUS     its exit status
const batchFrame = `LC_ALL=C; export LC_ALL
exec 4>&1
r() {
  s=$1; shift
  echo O
  e=$( { { ( eval "$s" ) </dev/null 2>&5 5>&-; echo "~$?" >&5; } | od -An -v -tx1 >&4; } 5>&1 )
  echo E
  printf '%s' "${e%~*}" | od -An -v -tx1
  echo "C ${e##*~}"
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
		var idx []int
		var script strings.Builder
		script.WriteString(batchFrame)
		for i, r := range reads {
			if r.Become != become {
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
		if len(idx) == 0 {
			continue
		}
		script.WriteString("exit 0\n")
		res, err := c.Run(ctx, executor.Command{Script: script.String(), Become: become})
		if err != nil {
			return nil, err
		}
		results, err := parseBatch(res.Stdout)
		if err != nil || len(results) != len(idx) {
			return nil, fmt.Errorf("batched reads on %s: %d answers for %d reads: %v (%s)", c.target.name, len(results), len(idx), err, remoteMessage(res))
		}
		for k, i := range idx {
			out[i] = c.readAnswer(reads[i], results[k])
		}
	}
	return out, nil
}

// readScript is the script of one read, "" for a read the batch does not carry.
func (c *Client) readScript(r executor.Read) (string, error) {
	switch r.Kind {
	case executor.ReadStat:
		if err := checkPath(r.Path); err != nil {
			return "", fmt.Errorf("stat %s: %w", r.Path, err)
		}
		return "p=" + quote(r.Path) + "\n" + statScript, nil
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
	case executor.ReadStat:
		if !res.OK() {
			return executor.ReadAnswer{Err: fmt.Errorf("stat %s on %s: %s", r.Path, c.target.name, remoteMessage(res))}
		}
		fi, err := parseStat(string(res.Stdout))
		if err != nil {
			err = fmt.Errorf("stat %s on %s: %w", r.Path, c.target.name, err)
		}
		return executor.ReadAnswer{Info: fi, Err: err}
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

// parseBatch splits batchFrame's output into one result per read.
func parseBatch(out []byte) ([]executor.Result, error) {
	var results []executor.Result
	var cur *bytes.Buffer
	var stdout, stderr bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "O":
			stdout, stderr = bytes.Buffer{}, bytes.Buffer{}
			cur = &stdout
		case line == "E":
			cur = &stderr
		case strings.HasPrefix(line, "C "):
			code, err := strconv.Atoi(line[2:])
			if err != nil || cur == nil {
				return results, fmt.Errorf("bad status line %q", line)
			}
			results = append(results, executor.Result{Stdout: bytes.Clone(stdout.Bytes()), Stderr: bytes.Clone(stderr.Bytes()), ExitCode: code})
			cur = nil
		case cur != nil:
			for _, h := range strings.Fields(line) {
				b, err := hex.DecodeString(h)
				if err != nil {
					return results, fmt.Errorf("bad hex line %q", line)
				}
				cur.Write(b)
			}
		default:
			return results, fmt.Errorf("unexpected line %q", line)
		}
	}
	return results, sc.Err()
}
