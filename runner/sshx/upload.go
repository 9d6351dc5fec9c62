package sshx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// uploadChunk is how much is written between checks of the context.
const uploadChunk = 256 << 10

// Exit statuses of the install script.
const exitValidation = 3

// Upload writes content to p atomically. The content goes over SFTP to
// ".NAME.ferry-tmp-RANDOM" beside p (or, with Become as a non-root user,
// into a private 0700 directory under /tmp, which the sudo'd script then
// moves beside p); one script then sets mode and owner, runs the validator,
// keeps a backup and renames the candidate over p. On any failure the temp
// file is removed, reconnecting if the connection was lost.
func (c *Client) Upload(ctx context.Context, p string, content []byte, opts executor.UploadOptions) (err error) {
	if err := checkPath(p); err != nil {
		return fmt.Errorf("upload %s: %w", p, err)
	}
	dir, name := path.Split(p)
	if name == "" {
		return fmt.Errorf("upload %s: path names a directory", p)
	}
	suffix, err := randomSuffix()
	if err != nil {
		return fmt.Errorf("upload %s: %w", p, err)
	}
	in := install{
		target:   p,
		tmp:      path.Join(dir, "."+name+".ferry-tmp-"+suffix),
		opts:     opts,
		sudo:     opts.Become && !c.isRoot(),
		backupTS: time.Now().Unix(),
	}
	in.stage = in.tmp
	defer func() {
		if err != nil {
			c.cleanup(ctx, in)
		}
	}()
	if in.sudo {
		// The login user cannot write beside p; stage where only it can
		// read, and let root move the file in.
		res, err := c.Run(ctx, executor.Command{Script: "umask 077 && mktemp -d /tmp/ferry-XXXXXXXXXX"})
		if err != nil {
			return fmt.Errorf("upload %s: %w", p, err)
		}
		in.privDir = strings.TrimSpace(string(res.Stdout))
		if !res.OK() || !strings.HasPrefix(in.privDir, "/tmp/ferry-") {
			in.privDir = ""
			return fmt.Errorf("upload %s on %s: private temp dir: %s", p, c.target.name, remoteMessage(res))
		}
		in.stage = in.privDir + "/" + name
	}
	if err := c.writeTemp(ctx, in.stage, content); err != nil {
		return fmt.Errorf("upload %s: %w", p, err)
	}
	res, err := c.Run(ctx, executor.Command{Script: in.script(), Become: opts.Become})
	switch {
	case err != nil:
		return fmt.Errorf("upload %s: %w", p, err)
	case res.ExitCode == exitValidation:
		out := strings.TrimSpace(string(res.Stdout) + string(res.Stderr))
		return &executor.ValidationError{Command: opts.Validate, Output: out}
	case !res.OK():
		return fmt.Errorf("upload %s on %s: %s", p, c.target.name, remoteMessage(res))
	}
	return nil
}

// writeTemp creates the temp file exclusively, 0600 before any content
// arrives (it may be secret), and writes content in chunks so that a
// cancelled context stops the transfer.
func (c *Client) writeTemp(ctx context.Context, tmp string, content []byte) error {
	sc, err := c.sftpClient()
	if err != nil {
		return err
	}
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return c.sftpFailed("create "+tmp, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return c.sftpFailed("chmod "+tmp, err)
	}
	for len(content) > 0 {
		if err := ctx.Err(); err != nil {
			f.Close()
			return fmt.Errorf("write %s on %s: %w", tmp, c.target.name, err)
		}
		n := min(len(content), uploadChunk)
		if _, err := f.Write(content[:n]); err != nil {
			f.Close()
			return c.writeFailed(ctx, tmp, c.sftpFailed("write "+tmp, err))
		}
		content = content[n:]
	}
	if err := f.Close(); err != nil {
		return c.writeFailed(ctx, tmp, c.sftpFailed("write "+tmp, err))
	}
	return nil
}

// writeFailed explains a failed write where SFTP cannot: its protocol has
// no "disk full" status, so a full file system arrives as a bare
// SSH_FX_FAILURE. One df on the target's file system tells the user.
func (c *Client) writeFailed(ctx context.Context, tmp string, err error) error {
	if errors.Is(err, executor.ErrUnreachable) {
		return err
	}
	res, rerr := c.Run(ctx, executor.Command{Script: "df -Pk " + quote(path.Dir(tmp)) + " | awk 'NR==2 {print $4}'"})
	if rerr != nil || !res.OK() {
		return err
	}
	if free := strings.TrimSpace(string(res.Stdout)); free == "0" {
		return fmt.Errorf("%w: no space left on device (0 KiB free in %s)", err, path.Dir(tmp))
	}
	return err
}

// cleanup removes what a failed upload left. The step's context may be
// the reason for the failure, so cleanup gets its own deadline; if the
// connection is gone, a fresh one is dialled for the purpose.
func (c *Client) cleanup(ctx context.Context, in install) {
	timeout := c.cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*timeout)
	defer cancel()
	cmd := executor.Command{Script: in.cleanupScript(), Become: in.opts.Become}
	if _, err := c.Run(cctx, cmd); err == nil {
		return
	}
	cfg := c.cfg
	cfg.ConnectRetries = 0
	fresh, err := Dial(cctx, cfg)
	if err != nil {
		return
	}
	defer fresh.Close()
	_, _ = fresh.Run(cctx, cmd)
}

// install is one upload's plan on the remote side.
type install struct {
	target   string
	tmp      string // candidate beside target
	stage    string // where SFTP writes: tmp, or inside privDir
	privDir  string // with sudo: private dir under /tmp
	opts     executor.UploadOptions
	sudo     bool
	backupTS int64
}

// script moves the staged file into place. Exit 3 means the validator
// refused the candidate (its output on stdout); any other failure exits 1
// with the reason on stderr. Every failure removes the temp files.
func (in install) script() string {
	mode := in.opts.Mode
	if mode == 0 {
		mode = 0o644
	}
	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\n") }
	w("t=" + quote(in.tmp) + " p=" + quote(in.target) + " d=" + quote(in.privDir))
	w(`fail() { rm -f "$t"; [ -z "$d" ] || rm -rf "$d"; exit "${1:-1}"; }`)
	// -d follows a symlink: mv onto a symlink to a directory would move
	// the candidate into it.
	w(`if [ -d "$p" ]; then if [ -L "$p" ]; then echo "$p is a symlink to a directory" >&2; else echo "$p is a directory" >&2; fi; fail; fi`)
	if in.sudo {
		// Across filesystems mv copies; that happens to the temp name,
		// so the rename below stays atomic.
		w(`mv -f "$d"/` + quote(path.Base(in.target)) + ` "$t" || fail`)
	}
	w("chmod " + fmt.Sprintf("%04o", executor.ModeBits(mode)) + ` "$t" || fail`)
	owner := in.opts.Owner
	if in.opts.Group != "" {
		owner += ":" + in.opts.Group
	}
	switch {
	case owner != "":
		w("chown " + quote(owner) + ` "$t" || fail`)
	case in.sudo:
		// Same-filesystem mv kept the login user as owner.
		w(`chown "$(id -u):$(id -g)" "$t" || fail`)
	}
	if in.opts.Validate != "" {
		v := strings.ReplaceAll(in.opts.Validate, "%s", quote(in.tmp))
		w("( " + v + "\n) </dev/null 2>&1 || fail " + itoa(exitValidation))
	}
	if in.opts.Backup {
		w(`if [ -f "$p" ]; then cp -p "$p" "$p".ferry-backup-` + fmt.Sprint(in.backupTS) + " || fail; fi")
	}
	w(`mv -f "$t" "$p" || fail`)
	w(`[ -z "$d" ] || rm -rf "$d"`)
	b.WriteString(staleTempsScript(in.target))
	return b.String()
}

// staleTempsScript removes the temp files an earlier upload of target left
// (ferry killed mid-transfer): files of ferry's naming beside it that no
// process has open (on Linux, per /proc; elsewhere, those untouched for 10
// minutes). It never fails the upload. Names holding glob characters are
// skipped: find's patterns would need escaping.
func staleTempsScript(target string) string {
	if strings.ContainsAny(target, `*?[\`) {
		return ""
	}
	dir, name := path.Split(target)
	prefix := quote(dir + "." + name + ".ferry-tmp-")
	return `for s in ` + prefix + `*; do
  [ -f "$s" ] && [ "$s" != "$t" ] || continue
  if [ -d /proc/self/fd ]; then
    [ -z "$(find /proc/[0-9]*/fd -lname "$s" 2>/dev/null | head -n 1)" ] || continue
  else
    [ -z "$(find "$s" -mmin -10 2>/dev/null)" ] || continue
  fi
  rm -f "$s"
done
exit 0
`
}

func (in install) cleanupScript() string {
	s := "rm -f " + quote(in.tmp)
	if in.stage != in.tmp {
		s += " " + quote(in.stage)
	}
	if in.privDir != "" {
		s += "; rm -rf " + quote(in.privDir)
	}
	return s
}

func randomSuffix() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random name: %w", err)
	}
	return hex.EncodeToString(b), nil
}
