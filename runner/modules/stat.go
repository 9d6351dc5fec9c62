package modules

import (
	"context"
	"fmt"
)

// stat registers facts of a path: .result.stat.exists, isdir, islink,
// link_target, mode, owner, group, size, checksum (sha256 of a regular
// file). It changes nothing; in check mode it reads the path as earlier
// tasks would have left it.
func init() {
	register("stat", []string{"path"}, []string{"path"}, func(a *argReader) (Module, error) {
		return statModule{path: a.str("path", "")}, nil
	})
}

type statModule struct{ path string }

func (m statModule) Plan(ctx context.Context, t *Target) (Change, error) {
	fi, err := stat(ctx, t, m.path)
	if err != nil {
		return Change{}, fmt.Errorf("stat %s: %w", m.path, err)
	}
	st := map[string]any{"exists": fi.Exists, "isdir": false, "islink": false, "link_target": "",
		"mode": "", "owner": "", "group": "", "size": 0, "checksum": ""}
	if fi.Exists {
		st["isdir"], st["islink"], st["link_target"] = fi.IsDir, fi.IsLink, fi.LinkTo
		st["mode"] = fmt.Sprintf("%04o", fi.Mode.Perm())
		st["owner"], st["group"] = fi.Owner, fi.Group
		st["size"], st["checksum"] = int(fi.Size), fi.SHA256
	}
	return Change{Result: map[string]any{"stat": st}}, nil
}

func (m statModule) Apply(_ context.Context, _ *Target, c Change) (Change, error) { return c, nil }
