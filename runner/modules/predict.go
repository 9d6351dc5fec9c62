package modules

import (
	"context"
	"fmt"
	"path"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// Modules read the state of files through stat, readFile and readText
// below, never through t.Exec directly: in check mode t.State overlays the
// host with what earlier tasks of the run would have written, so a task
// plans against the state the real run will meet.

// Writer is implemented by modules that write known paths: when check
// mode cannot tell what such a task would do, those paths become unknown
// for the tasks after it.
type Writer interface {
	Writes() []string
}

// ParentMaker is implemented by modules that may create the missing
// folders above the paths they write (`mkdir -p`).
type ParentMaker interface {
	MakesParents() bool
}

func stat(ctx context.Context, t *Target, p string) (executor.FileInfo, error) {
	if t.State != nil {
		return t.State.Stat(ctx, p, t.Become)
	}
	return t.Exec.Stat(ctx, p, t.Become)
}

func readFile(ctx context.Context, t *Target, p string) ([]byte, error) {
	if t.State != nil {
		return t.State.ReadFile(ctx, p, t.Become)
	}
	return t.Exec.ReadFile(ctx, p, t.Become)
}

// needParent fails when p cannot be created because its directory does
// not exist (or will not, in check mode): the real run would fail there,
// so the plan must too. It costs one Stat, only for paths being created.
func needParent(ctx context.Context, t *Target, p string) error {
	dir := path.Dir(p)
	fi, err := stat(ctx, t, dir)
	if err != nil {
		return err
	}
	if !fi.Exists || !fi.IsDir {
		return fmt.Errorf("directory %s does not exist", dir)
	}
	return nil
}

// fileEntry is the predicted state of a regular file written with o.
func fileEntry(content []byte, o executor.UploadOptions) hoststate.Entry {
	return hoststate.Entry{Kind: hoststate.File, Content: content, Mode: o.Mode, HasMode: true,
		Owner: o.Owner, Group: o.Group, Become: o.Become, Fresh: true}
}

// needDirChain fails when `mkdir -p p` would: the nearest existing
// ancestor of p is not a directory. It costs one Stat per missing level.
func needDirChain(ctx context.Context, t *Target, p string) error {
	for dir := path.Dir(p); dir != "/" && dir != "."; dir = path.Dir(dir) {
		fi, err := stat(ctx, t, dir)
		if err != nil {
			return err
		}
		if fi.Exists {
			if !fi.IsDir {
				return fmt.Errorf("%s is not a directory", dir)
			}
			return nil
		}
	}
	return nil
}
