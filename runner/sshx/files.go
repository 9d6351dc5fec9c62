package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// statScript prints, for the path in $p: the type (or "absent"), then
// "mode owner group size" (GNU stat, else BSD stat), then the sha256 of a
// regular file (an empty line otherwise), then a link's target. One
// exchange answers whether a file step has anything to do.
const statScript = `if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo absent; exit 0; fi
if [ -L "$p" ]; then t=link; elif [ -d "$p" ]; then t=dir; elif [ -f "$p" ]; then t=file; else t=other; fi
echo "$t"
stat -c '%a %U %G %s %u %g' "$p" 2>/dev/null || stat -f '%Lp %Su %Sg %z %u %g' "$p" || exit 1
if [ "$t" = file ]; then
  { command -v sha256sum >/dev/null && s=$(sha256sum <"$p"); } || s=$(shasum -a 256 <"$p") || exit 1
  echo "${s%% *}"
else
  echo
fi
if [ "$t" = link ]; then readlink "$p"; fi
`

// Stat reports a path's state in one round trip. Mode holds the permission
// bits plus setuid, setgid and sticky; the type is in IsDir and IsLink, and
// a link is described itself, not its target.
func (c *Client) Stat(ctx context.Context, p string, become bool) (executor.FileInfo, error) {
	if err := checkPath(p); err != nil {
		return executor.FileInfo{}, fmt.Errorf("stat %s: %w", p, err)
	}
	res, err := c.Run(ctx, executor.Command{Script: "p=" + quote(p) + "\n" + statScript, Become: become})
	if err != nil {
		return executor.FileInfo{}, fmt.Errorf("stat %s: %w", p, err)
	}
	if !res.OK() {
		return executor.FileInfo{}, fmt.Errorf("stat %s on %s: %s", p, c.target.name, remoteMessage(res))
	}
	fi, err := parseStat(string(res.Stdout))
	if err != nil {
		return executor.FileInfo{}, fmt.Errorf("stat %s on %s: %w", p, c.target.name, err)
	}
	return fi, nil
}

func parseStat(out string) (executor.FileInfo, error) {
	lines := strings.SplitN(out, "\n", 4)
	if lines[0] == "absent" {
		return executor.FileInfo{}, nil
	}
	if len(lines) < 3 {
		return executor.FileInfo{}, fmt.Errorf("unexpected stat output %q", out)
	}
	fi, err := statInfo(lines[0], strings.Fields(lines[1]))
	if err != nil {
		return executor.FileInfo{}, fmt.Errorf("unexpected stat line %q", lines[1])
	}
	fi.SHA256 = lines[2]
	if fi.IsLink && len(lines) == 4 {
		fi.LinkTo = strings.TrimSuffix(lines[3], "\n")
	}
	return fi, nil
}

// statInfo describes a path of type t (file, dir, link, other) from the
// fields "MODE OWNER GROUP SIZE [UID GID]" (MODE in octal).
func statInfo(t string, f []string) (executor.FileInfo, error) {
	if len(f) != 4 && len(f) != 6 {
		return executor.FileInfo{}, fmt.Errorf("%d fields", len(f))
	}
	bits, err1 := strconv.ParseUint(f[0], 8, 32)
	size, err2 := strconv.ParseInt(f[3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return executor.FileInfo{}, err
	}
	fi := executor.FileInfo{
		Exists: true,
		IsDir:  t == "dir",
		IsLink: t == "link",
		Mode:   executor.ModeFromBits(uint32(bits)),
		Owner:  f[1],
		Group:  f[2],
		Size:   size,
	}
	if len(f) == 6 {
		fi.OwnerID, fi.GroupID = f[4], f[5]
	}
	return fi, nil
}

// exitMissing is the exit status ReadFile's script uses for "no such file".
const exitMissing = 66

// ReadFile returns a file's content, over SFTP, or through `cat` with
// become. A missing file yields an error matching fs.ErrNotExist.
func (c *Client) ReadFile(ctx context.Context, p string, become bool) ([]byte, error) {
	if err := checkPath(p); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if become && !c.isRoot() {
		script := "p=" + quote(p) + "\n" +
			`if [ ! -e "$p" ]; then exit ` + itoa(exitMissing) + "; fi\nexec cat \"$p\""
		res, err := c.Run(ctx, executor.Command{Script: script, Become: true})
		switch {
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", p, err)
		case res.ExitCode == exitMissing:
			return nil, fmt.Errorf("read %s on %s: %w", p, c.target.name, fs.ErrNotExist)
		case !res.OK():
			return nil, fmt.Errorf("read %s on %s: %s", p, c.target.name, remoteMessage(res))
		}
		return res.Stdout, nil
	}
	sc, err := c.sftpClient()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := sc.Open(p)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, c.sftpFailed("read "+p, r.err)
		}
		return r.b, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("read %s on %s: %w", p, c.target.name, ctx.Err())
	}
}

// Remove deletes a file, a link or an empty directory; a missing path is
// not an error.
func (c *Client) Remove(ctx context.Context, p string, become bool) error {
	if err := checkPath(p); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	script := "p=" + quote(p) + "\n" +
		`if [ -d "$p" ] && [ ! -L "$p" ]; then rmdir "$p"; else rm -f "$p"; fi`
	res, err := c.Run(ctx, executor.Command{Script: script, Become: become})
	if err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	if !res.OK() {
		return fmt.Errorf("remove %s on %s: %s", p, c.target.name, remoteMessage(res))
	}
	return nil
}

// checkPath insists on absolute, clean-enough paths: a relative path would
// depend on the login directory, and a leading "-" could read as an option.
func checkPath(p string) error {
	if !path.IsAbs(p) {
		return fmt.Errorf("path must be absolute")
	}
	if strings.ContainsAny(p, "\x00\n") {
		return fmt.Errorf("path contains a NUL or newline")
	}
	return nil
}

// remoteMessage is what a failed remote command said, for an error.
func remoteMessage(res executor.Result) string {
	msg := strings.TrimSpace(string(res.Stderr))
	if msg == "" {
		msg = strings.TrimSpace(string(res.Stdout))
	}
	if msg == "" {
		msg = "exit status " + itoa(res.ExitCode)
	}
	return msg
}
