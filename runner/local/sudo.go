package local

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

// When the controller is not root and a file operation needs become, Go's
// os package cannot do it; these fall back to small shell scripts run
// through sudo, doing the same steps as their in-process twins.

func (e *Executor) sudoRun(ctx context.Context, what, script string, stdin []byte) (executor.Result, error) {
	cmd := executor.Command{Script: script, Become: true}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	res, err := e.Run(ctx, cmd)
	if err != nil {
		return res, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}

// statScript prints "type|mode(octal)|owner|group|size|sha256" and, for a
// link, its target on a second line; nothing when the path is missing.
const statScript = `p=$1
[ -e "$p" ] || [ -L "$p" ] || exit 0
if [ -L "$p" ]; then t=link; elif [ -d "$p" ]; then t=dir; elif [ -f "$p" ]; then t=file; else t=other; fi
s=-; [ "$t" = file ] && s=$(sha256sum < "$p" | cut -d' ' -f1)
printf '%s|%s|%s|%s|%s|%s|%s\n' "$t" "$(stat -c %a "$p")" "$(stat -c %U "$p")" "$(stat -c %G "$p")" "$(stat -c %s "$p")" "$s" "$(stat -c %u:%g "$p")"
[ "$t" = link ] && readlink "$p"
exit 0`

func (e *Executor) sudoStat(ctx context.Context, path string) (executor.FileInfo, error) {
	res, err := e.sudoRun(ctx, "stat "+path, "set -- "+shellQuote(path)+"\n"+statScript, nil)
	if err != nil {
		return executor.FileInfo{}, err
	}
	if !res.OK() {
		return executor.FileInfo{}, fmt.Errorf("stat %s: %s", path, strings.TrimSpace(string(res.Stderr)))
	}
	return parseStat(string(res.Stdout))
}

func parseStat(out string) (executor.FileInfo, error) {
	if strings.TrimSpace(out) == "" {
		return executor.FileInfo{}, nil
	}
	lines := strings.SplitN(out, "\n", 2)
	f := strings.Split(lines[0], "|")
	if len(f) != 7 {
		return executor.FileInfo{}, fmt.Errorf("stat: unexpected output %q", lines[0])
	}
	mode, err := strconv.ParseUint(f[1], 8, 32)
	if err != nil {
		return executor.FileInfo{}, fmt.Errorf("stat: mode %q: %w", f[1], err)
	}
	size, _ := strconv.ParseInt(f[4], 10, 64)
	info := executor.FileInfo{
		Exists: true, IsDir: f[0] == "dir", IsLink: f[0] == "link",
		Mode: executor.ModeFromBits(uint32(mode)), Owner: f[2], Group: f[3], Size: size,
	}
	info.OwnerID, info.GroupID, _ = strings.Cut(f[6], ":")
	if f[0] == "file" {
		if _, err := hex.DecodeString(f[5]); err != nil {
			return executor.FileInfo{}, fmt.Errorf("stat: sha256 %q: %w", f[5], err)
		}
		info.SHA256 = f[5]
	}
	if info.IsLink && len(lines) == 2 {
		info.LinkTo = strings.TrimSuffix(lines[1], "\n")
	}
	return info, nil
}

func (e *Executor) sudoReadFile(ctx context.Context, path string) ([]byte, error) {
	res, err := e.sudoRun(ctx, "read "+path, "cat -- "+shellQuote(path), nil)
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		msg := strings.TrimSpace(string(res.Stderr))
		if strings.Contains(msg, "No such file") {
			return nil, fmt.Errorf("read %s: %w", path, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("read %s: %s", path, msg)
	}
	return res.Stdout, nil
}

func (e *Executor) sudoRemove(ctx context.Context, path string) error {
	q := shellQuote(path)
	res, err := e.sudoRun(ctx, "remove "+path, "if [ -d "+q+" ] && [ ! -L "+q+" ]; then rmdir -- "+q+"; else rm -f -- "+q+"; fi", nil)
	if err != nil {
		return err
	}
	if !res.OK() {
		return fmt.Errorf("remove %s: %s", path, strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}

// uploadScript exits 3 when validation rejects the candidate so that the
// caller can tell a rejection from a failure; the trap removes the temp
// file on every path but success.
const uploadScript = `set -e
p=$1 mode=$2 owner=$3 group=$4 validate=$5 backup=$6
tmp=$(mktemp "$(dirname "$p")/.$(basename "$p").ferry-XXXXXX")
trap 'rm -f "$tmp"' EXIT
chmod "$mode" "$tmp"
cat > "$tmp"
[ -n "$owner" ] && chown "$owner" "$tmp"
[ -n "$group" ] && chgrp "$group" "$tmp"
chmod "$mode" "$tmp"
if [ -n "$validate" ]; then
  sh -c "$validate" ferry-validate "$tmp" >&2 || exit 3
fi
if [ -d "$p" ]; then echo "$p is a directory or a symlink to one" >&2; exit 1; fi
[ "$backup" = 1 ] && [ -e "$p" ] && cp -p "$p" "$p.ferry-backup-$(date +%s)"
mv -f "$tmp" "$p"
trap - EXIT`

func (e *Executor) sudoUpload(ctx context.Context, path string, content []byte, opts executor.UploadOptions) error {
	mode := opts.Mode
	if mode == 0 {
		mode = 0o644
	}
	b := "0"
	if opts.Backup {
		b = "1"
	}
	// The validator sees the candidate as "$1" of its own shell, so the temp
	// name is never re-parsed as shell text.
	v := strings.ReplaceAll(opts.Validate, "%s", `"$1"`)
	args := []string{path, fmt.Sprintf("%04o", executor.ModeBits(mode)), opts.Owner, opts.Group, v, b}
	for i := range args {
		args[i] = shellQuote(args[i])
	}
	res, err := e.sudoRun(ctx, "upload "+path, "set -- "+strings.Join(args, " ")+"\n"+uploadScript, content)
	if err != nil {
		return err
	}
	switch res.ExitCode {
	case 0:
		return nil
	case 3:
		return &executor.ValidationError{Command: opts.Validate, Output: strings.TrimSpace(string(res.Stderr))}
	default:
		return fmt.Errorf("upload %s: %s", path, strings.TrimSpace(string(res.Stderr)))
	}
}
