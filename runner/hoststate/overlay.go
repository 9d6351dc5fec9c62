package hoststate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// Overlay reads a host through its predicted state: predicted paths are
// answered from the State, every other path from the host itself.
type Overlay struct {
	State *State
	Exec  executor.Executor

	mu  sync.Mutex
	ids map[bool]identity
}

// identity is who creates a file that a task gives no owner, and with
// which umask: what `id -un`, `id -gn` and `umask` print on the host.
type identity struct {
	user, group string
	umask       fs.FileMode
}

// NewOverlay returns the overlay of st over x.
func NewOverlay(st *State, x executor.Executor) *Overlay {
	return &Overlay{State: st, Exec: x, ids: map[bool]identity{}}
}

// writer reads (once per become setting) who would create new paths.
func (o *Overlay) writer(ctx context.Context, become bool) (identity, error) {
	o.mu.Lock()
	id, ok := o.ids[become]
	o.mu.Unlock()
	if ok {
		return id, nil
	}
	res, err := o.Exec.Run(ctx, executor.Command{Script: "id -un && id -gn && umask", Become: become})
	if err != nil {
		return id, fmt.Errorf("read the connecting user: %w", err)
	}
	f := strings.Fields(string(res.Stdout))
	if !res.OK() || len(f) != 3 {
		return id, fmt.Errorf("read the connecting user: unexpected output %q", res.Stdout)
	}
	mask, err := strconv.ParseUint(f[2], 8, 32)
	if err != nil {
		return id, fmt.Errorf("read the connecting user: umask %q: %w", f[2], err)
	}
	id = identity{user: f[0], group: f[1], umask: fs.FileMode(mask) & 0o777}
	o.mu.Lock()
	o.ids[become] = id
	o.mu.Unlock()
	return id, nil
}

// Stat is executor.Executor's Stat over the prediction.
func (o *Overlay) Stat(ctx context.Context, p string, become bool) (executor.FileInfo, error) {
	e, ok := o.State.Lookup(p)
	if !ok {
		fi, err := o.Exec.Stat(ctx, p, become)
		if err == nil && !fi.Exists {
			err = o.mayBeCreated(p)
		}
		return fi, err
	}
	fi, _, err := o.resolve(ctx, p, e, become, false)
	return fi, err
}

// mayBeCreated is the unknown error for a path the host does not have but
// a package an earlier task installs may bring.
func (o *Overlay) mayBeCreated(p string) error {
	if why := o.State.Touched(Packages); why != "" {
		return &UnknownError{What: p, Because: "the host has no " + p + " now, and " + why + ", which may create it"}
	}
	return nil
}

// ReadFile is executor.Executor's ReadFile over the prediction.
func (o *Overlay) ReadFile(ctx context.Context, p string, become bool) ([]byte, error) {
	e, ok := o.State.Lookup(p)
	if !ok {
		b, err := o.Exec.ReadFile(ctx, p, become)
		if errors.Is(err, fs.ErrNotExist) {
			if u := o.mayBeCreated(p); u != nil {
				return nil, u
			}
		}
		return b, err
	}
	fi, content, err := o.resolve(ctx, p, e, become, true)
	if err != nil {
		return nil, err
	}
	if !fi.Exists {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fs.ErrNotExist}
	}
	if fi.IsDir {
		return nil, fmt.Errorf("read %s: is a directory", p)
	}
	return content, nil
}

// Text returns a predicted file's state and content; ok is false when
// nothing is predicted for p and the caller must read the host.
func (o *Overlay) Text(ctx context.Context, p string, become bool) (fi executor.FileInfo, content []byte, ok bool, err error) {
	e, ok := o.State.Lookup(p)
	if !ok {
		return fi, nil, false, nil
	}
	fi, content, err = o.resolve(ctx, p, e, become, true)
	return fi, content, true, err
}

// resolve turns an entry into what the host would report, reading the
// real host for what the entry leaves to it (Backed) and the writer's
// identity for new paths without an owner.
func (o *Overlay) resolve(ctx context.Context, p string, e Entry, become, withContent bool) (executor.FileInfo, []byte, error) {
	switch e.Kind {
	case Unknown:
		return executor.FileInfo{}, nil, &UnknownError{What: p, Because: e.Because}
	case Absent:
		return executor.FileInfo{}, nil, nil
	}
	var fi executor.FileInfo
	var content []byte
	if e.Backed {
		real, err := o.Exec.Stat(ctx, p, become)
		if err != nil {
			return fi, nil, err
		}
		if real.Exists {
			if e.Kind == Dir && !real.IsDir || e.Kind == File && (real.IsDir || real.IsLink) {
				return fi, nil, &UnknownError{What: p, Because: "the host has another kind of file there than a task before predicts"}
			}
			fi = real
			if e.Kind == File && e.Content == nil && withContent {
				if content, err = o.Exec.ReadFile(ctx, p, become); err != nil {
					return fi, nil, err
				}
			}
		} else if e.Kind == File {
			return fi, nil, &UnknownError{What: p, Because: "a task before changes attributes of a file the host does not have"}
		}
	}
	if !fi.Exists {
		id, err := o.writer(ctx, e.Become)
		if err != nil {
			return fi, nil, err
		}
		fi = executor.FileInfo{Exists: true, Owner: id.user, Group: id.group}
		switch e.Kind {
		case Dir:
			fi.Mode = 0o777 &^ id.umask
		case File:
			fi.Mode = 0o666 &^ id.umask
		case Link:
			fi.Mode = 0o777
		}
	}
	fi.IsDir, fi.IsLink = e.Kind == Dir, e.Kind == Link
	if e.HasMode {
		fi.Mode = e.Mode
	}
	if e.Owner != "" {
		fi.Owner = e.Owner
	}
	if e.Group != "" {
		fi.Group = e.Group
	}
	switch e.Kind {
	case File:
		if e.Content != nil {
			content = e.Content
			sum := sha256.Sum256(content)
			fi.SHA256, fi.Size = hex.EncodeToString(sum[:]), int64(len(content))
		}
	case Link:
		fi.LinkTo, fi.Size, fi.SHA256 = e.LinkTo, int64(len(e.LinkTo)), ""
	default:
		fi.SHA256 = ""
	}
	return fi, content, nil
}

// maxLinkHops bounds how many links Exists follows, as the kernel does
// (ELOOP).
const maxLinkHops = 40

// Exists reports whether p would exist (for a command's creates/removes
// guard, which follows links as test -e does); ok is false when nothing is
// predicted for p or for what it leads to, and the host answers. Links are
// followed through the prediction and, once it was predicted to change
// anything, through the host's own links too: a host link may lead to a
// predicted path.
func (o *Overlay) Exists(ctx context.Context, p string, become bool) (exists, ok bool, err error) {
	e, ok := o.State.Lookup(p)
	if !ok && o.State.Changed() == "" {
		return false, false, nil
	}
	followed := false
	for hops := 0; ; hops++ {
		if hops > maxLinkHops {
			return false, true, &UnknownError{What: p, Because: "too many levels of links"}
		}
		if !ok {
			fi, err := o.Exec.Stat(ctx, p, become)
			if err != nil {
				return false, true, err
			}
			if !fi.IsLink {
				if !followed {
					return false, false, nil // the host answers for itself
				}
				if !fi.Exists {
					if err := o.mayBeCreated(p); err != nil {
						return false, true, err
					}
				}
				return fi.Exists, true, nil
			}
			e = Entry{Kind: Link, LinkTo: fi.LinkTo}
		}
		switch e.Kind {
		case Unknown:
			return false, true, &UnknownError{What: p, Because: e.Because}
		case Absent:
			return false, true, nil
		case Link:
			to := e.LinkTo
			if !path.IsAbs(to) {
				to = path.Join(path.Dir(p), to)
			}
			p, followed = path.Clean(to), true
			e, ok = o.State.Lookup(p)
			continue
		}
		return true, true, nil
	}
}
