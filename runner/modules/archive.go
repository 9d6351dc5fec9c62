package modules

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ulikunitz/xz"
)

// archiveEntry is one path an archive holds, as extraction leaves it.
type archiveEntry struct {
	name    string // relative, cleaned, never leaving the destination
	kind    string // "file", "dir" or "link"
	mode    fs.FileMode
	content []byte // file
	sum     string // sha256 of content
	link    string // link target
	// implicit: a folder the archive has no entry for, created because
	// entries below it need it (its mode is the extractor's default).
	implicit bool
}

// archiveFormat names the formats unarchive reads, from their first bytes.
func archiveFormat(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return "tar.gz"
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "tar.xz"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")), bytes.HasPrefix(b, []byte("PK\x05\x06")):
		return "zip"
	case len(b) > 262 && string(b[257:262]) == "ustar":
		return "tar"
	}
	return ""
}

// maxArchiveEntryBytes bounds what one entry may expand to on the
// controller, against archives that decompress without end.
const maxArchiveEntryBytes = 1 << 30

// readArchive lists what extracting b leaves, read on the controller, so
// that a plan compares the destination with exactly that and check mode
// predicts it.
func readArchive(b []byte) (string, []archiveEntry, error) {
	format := archiveFormat(b)
	var entries []archiveEntry
	var err error
	switch format {
	case "tar.gz":
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(b)); err == nil {
			entries, err = readTar(zr)
		}
	case "tar.xz":
		var xr *xz.Reader
		if xr, err = xz.NewReader(bytes.NewReader(b)); err == nil {
			entries, err = readTar(xr)
		}
	case "tar":
		entries, err = readTar(bytes.NewReader(b))
	case "zip":
		entries, err = readZip(b)
	default:
		return "", nil, errors.New("not a tar.gz, tar.xz, tar or zip archive")
	}
	if err != nil {
		return format, nil, fmt.Errorf("%s: %w", format, err)
	}
	entries, err = withParents(entries)
	return format, entries, err
}

func readTar(r io.Reader) ([]archiveEntry, error) {
	tr := tar.NewReader(r)
	var out []archiveEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		e := archiveEntry{name: h.Name, mode: executor.ModeFromBits(uint32(h.Mode & 0o7777))}
		switch h.Typeflag {
		case tar.TypeReg:
			e.kind = "file"
			if e.content, err = readBounded(tr, h.Name); err != nil {
				return nil, err
			}
		case tar.TypeDir:
			e.kind = "dir"
		case tar.TypeSymlink:
			e.kind, e.link = "link", h.Linkname
		case tar.TypeXGlobalHeader:
			continue
		default:
			return nil, fmt.Errorf("%s: entry type %q is not supported (regular files, folders and symbolic links are)", h.Name, h.Typeflag)
		}
		out = append(out, e)
	}
}

func readZip(b []byte) ([]archiveEntry, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	var out []archiveEntry
	for _, f := range zr.File {
		m := f.Mode()
		e := archiveEntry{name: f.Name, mode: m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)}
		switch {
		case m.IsDir():
			e.kind = "dir"
		case m&fs.ModeSymlink != 0, m.IsRegular():
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			content, err := readBounded(rc, f.Name)
			rc.Close()
			if err != nil {
				return nil, err
			}
			if m&fs.ModeSymlink != 0 {
				e.kind, e.link = "link", string(content)
			} else {
				e.kind, e.content = "file", content
			}
		default:
			return nil, fmt.Errorf("%s: entry type %v is not supported", f.Name, m.Type())
		}
		out = append(out, e)
	}
	return out, nil
}

func readBounded(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxArchiveEntryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxArchiveEntryBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxArchiveEntryBytes)
	}
	return b, nil
}

// withParents cleans every name, refuses names that leave the destination
// (or that the target's line-based reads cannot carry), drops the entry
// of the destination itself, and adds the folders entries need but the
// archive does not list. Entries come out sorted, parents first.
func withParents(in []archiveEntry) ([]archiveEntry, error) {
	byName := map[string]archiveEntry{}
	for _, e := range in {
		raw := e.name
		if strings.HasPrefix(raw, "/") || strings.ContainsAny(raw, "\n\t") {
			return nil, fmt.Errorf("entry %q: absolute, or a name with a newline or tab", raw)
		}
		name := path.Clean(raw)
		if name == "." {
			continue
		}
		if name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("entry %q leaves the destination", raw)
		}
		if e.kind == "link" && (path.IsAbs(e.link) || strings.HasPrefix(path.Clean(path.Join(path.Dir(name), e.link)), "../")) {
			return nil, fmt.Errorf("entry %q: a link out of the destination (%s)", raw, e.link)
		}
		e.name = name
		if e.kind == "file" {
			e.sum = sha256Hex(e.content)
		}
		byName[name] = e // a later entry of the same name wins, as on extraction
	}
	for name := range byName {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if p, ok := byName[dir]; ok {
				if p.kind != "dir" {
					return nil, fmt.Errorf("entry %q is below %q, which is not a folder", name, dir)
				}
				continue
			}
			byName[dir] = archiveEntry{name: dir, kind: "dir", implicit: true}
		}
	}
	out := make([]archiveEntry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}
