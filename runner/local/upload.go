package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/runner/executor"
)

// Upload writes content to path atomically: temp file beside the target,
// mode and owner, validation, optional backup, rename. The temp file is
// removed on every failure, so a rejected candidate leaves nothing behind.
func (e *Executor) Upload(ctx context.Context, path string, content []byte, opts executor.UploadOptions) (err error) {
	if e.sudo(opts.Become) {
		return e.sudoUpload(ctx, path, content, opts)
	}
	mode := opts.Mode
	if mode == 0 {
		mode = 0o644
	}
	uid, gid, err := lookupOwner(opts.Owner, opts.Group)
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".ferry-*")
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	// Mode first, before any content lands: a secret is never readable by
	// others, not even for the instant between write and chmod.
	if err = f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if _, err = f.Write(content); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if uid >= 0 || gid >= 0 {
		if err = os.Lchown(tmp, uid, gid); err != nil {
			return fmt.Errorf("upload %s: %w", path, err)
		}
		// chown clears setuid/setgid bits; put the requested mode back.
		if err = os.Chmod(tmp, mode); err != nil {
			return fmt.Errorf("upload %s: %w", path, err)
		}
	}
	if opts.Validate != "" {
		if err = validate(ctx, opts.Validate, tmp); err != nil {
			return err
		}
	}
	if opts.Backup {
		if err = backup(path); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	return nil
}

func validate(ctx context.Context, command, candidate string) error {
	script := strings.ReplaceAll(command, "%s", shellQuote(candidate))
	out, err := exec.CommandContext(ctx, "/bin/sh", "-c", script).CombinedOutput()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && ctx.Err() == nil {
		return &executor.ValidationError{Command: command, Output: strings.TrimSpace(string(out))}
	}
	if err != nil {
		return fmt.Errorf("validate with %q: %w", command, err)
	}
	return nil
}

// backup keeps the current file under a timestamped name. A hard link keeps
// the very inode (owner, mode, content) without copying; copying is the
// fallback for file systems without links.
func backup(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	dst := fmt.Sprintf("%s.ferry-backup-%d", path, time.Now().Unix())
	if err := os.Link(path, dst); err == nil {
		return nil
	}
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	if _, err = io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("backup %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	return nil
}

// lookupOwner resolves user and group names (or numbers); -1 keeps the id.
func lookupOwner(owner, group string) (uid, gid int, err error) {
	if uid, err = lookupID(owner, false); err != nil {
		return 0, 0, err
	}
	if gid, err = lookupID(group, true); err != nil {
		return 0, 0, err
	}
	return uid, gid, nil
}

// lookupID is the uid (or gid) name stands for: -1 for "" (the id is
// kept), a number as it is, else the id of the account of that name.
func lookupID(name string, isGroup bool) (int, error) {
	if name == "" {
		return -1, nil
	}
	if id, err := strconv.Atoi(name); err == nil {
		return id, nil
	}
	var id string
	if isGroup {
		g, err := user.LookupGroup(name)
		if err != nil {
			return 0, fmt.Errorf("group %s: %w", name, err)
		}
		id = g.Gid
	} else {
		u, err := user.Lookup(name)
		if err != nil {
			return 0, fmt.Errorf("owner %s: %w", name, err)
		}
		id = u.Uid
	}
	n, _ := strconv.Atoi(id)
	return n, nil
}

// shellQuote returns s as one POSIX-shell word.
func shellQuote(s string) string { return shell.Literal(s) }
