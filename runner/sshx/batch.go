package sshx

import (
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
// batch of reads costs one round trip, and spawns as few processes as it
// can: on these hosts a process costs milliseconds, and a batch holds tens
// of reads. r streams a read's stdout through od as hex (binary-safe, never
// mistaken for a record line); t, for a read whose stdout is text without
// NUL bytes (our stat script), keeps it in a variable and writes it raw
// after its length, without od. A read's stderr and exit status are kept
// in a variable and written the same way:
//
//	O            the read's stdout follows, hex, until the E record
//	T LEN        LEN bytes of the read's stdout follow, then a newline
//	E LEN        LEN bytes follow: its stderr, "~", its exit status; newline
const batchFrame = `LC_ALL=C; export LC_ALL
exec 4>&1
r() {
  s=$1; shift
  echo O
  e=$( { { ( eval "$s" ) </dev/null 2>&5 5>&-; echo "~$?" >&5; } | od -An -v -tx1 >&4; } 5>&1 )
  printf 'E %s\n%s\n' "${#e}" "$e"
}
t() {
  s=$1; shift
  e=$( exec 3>&1; o=$( ( eval "$s" ) </dev/null 2>&3 3>&- 4>&-; echo "~$?" )
    c=${o##*~}; o=${o%~*}; printf 'T %s\n%s\n' "${#o}" "$o" >&4; printf '~%s' "$c" )
  printf 'E %s\n%s\n' "${#e}" "$e"
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
			frame := "r "
			if r.Kind == executor.ReadStat {
				frame = "t " // statScript prints text: names, numbers, a link's target
			}
			script.WriteString(frame + quote(s) + "\n")
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
	var stdout bytes.Buffer
	rest := out
	for len(rest) > 0 {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return results, fmt.Errorf("unterminated line %q", line)
		}
		rest = after
		switch {
		case string(line) == "O":
			stdout.Reset()
			for len(rest) > 0 && rest[0] != 'E' {
				hexLine, after, _ := bytes.Cut(rest, []byte("\n"))
				rest = after
				for _, h := range strings.Fields(string(hexLine)) {
					b, err := hex.DecodeString(h)
					if err != nil {
						return results, fmt.Errorf("bad hex line %q", hexLine)
					}
					stdout.Write(b)
				}
			}
		case bytes.HasPrefix(line, []byte("T ")):
			body, err := record(line, &rest)
			if err != nil {
				return results, err
			}
			stdout.Reset()
			stdout.Write(body)
		case bytes.HasPrefix(line, []byte("E ")):
			body, err := record(line, &rest)
			if err != nil {
				return results, err
			}
			i := bytes.LastIndexByte(body, '~')
			code, err := strconv.Atoi(string(body[i+1:]))
			if i < 0 || err != nil {
				return results, fmt.Errorf("bad status in %q", body)
			}
			results = append(results, executor.Result{Stdout: bytes.Clone(stdout.Bytes()), Stderr: bytes.Clone(body[:i]), ExitCode: code})
			stdout.Reset()
		default:
			return results, fmt.Errorf("unexpected line %q", line)
		}
	}
	return results, nil
}

// record takes the body of a "T LEN" or "E LEN" record, and the newline
// after it, from rest.
func record(header []byte, rest *[]byte) ([]byte, error) {
	n, err := strconv.Atoi(string(header[2:]))
	if err != nil || n < 0 || n >= len(*rest) || (*rest)[n] != '\n' {
		return nil, fmt.Errorf("bad record %q", header)
	}
	body := (*rest)[:n]
	*rest = (*rest)[n+1:]
	return body, nil
}
