package modules

import (
	"io/fs"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// attrs are the mode and ownership a task asks for; unset fields are left
// as they are on the host.
type attrs struct {
	mode    fs.FileMode
	hasMode bool
	owner   string
	group   string
}

func readAttrs(a *argReader, withOwner bool) attrs {
	var at attrs
	at.mode, at.hasMode = a.mode("mode")
	if withOwner {
		at.owner = a.str("owner", "")
		at.group = a.str("group", "")
	}
	return at
}

// fixes lists what differs on an existing path, as summary lines.
func (at attrs) fixes(path string, fi executor.FileInfo) []string {
	var out []string
	if at.hasMode && !fi.IsLink && executor.ModeBits(fi.Mode) != executor.ModeBits(at.mode) {
		out = append(out, "chmod "+modeString(at.mode)+" "+path+" (was "+modeString(fi.Mode)+")")
	}
	if own := at.ownerSpec(fi); own != "" {
		out = append(out, "chown "+own+" "+path+" (was "+fi.Owner+":"+fi.Group+")")
	}
	return out
}

// ownerSpec is the chown argument needed to fix ownership, or "".
func (at attrs) ownerSpec(fi executor.FileInfo) string {
	o := at.owner != "" && !sameID(at.owner, fi.Owner, fi.OwnerID)
	g := at.group != "" && !sameID(at.group, fi.Group, fi.GroupID)
	switch {
	case o && g, o && at.group != "":
		return at.owner + ":" + at.group
	case o:
		return at.owner
	case g:
		return ":" + at.group
	}
	return ""
}

// sameID tells whether a requested owner or group, a name or a number,
// is the one stat reported: "0" and "root" are the same owner.
func sameID(want, name, id string) bool {
	return want == name || (id != "" && want == id)
}

// fixScript is the shell that applies fixes to path; it assumes the path
// now exists as fi describes (or, for a fresh path, with no known owner).
func (at attrs) fixScript(path string, fi executor.FileInfo) string {
	var b strings.Builder
	if own := at.ownerSpec(fi); own != "" {
		flag := ""
		if fi.IsLink {
			flag = "-h "
		}
		b.WriteString("chown " + flag + "-- " + quote(own) + " " + quote(path) + "\n")
	}
	// chmod after chown: chown clears setuid and setgid bits.
	if at.hasMode && !fi.IsLink && (executor.ModeBits(fi.Mode) != executor.ModeBits(at.mode) || b.Len() > 0) {
		b.WriteString("chmod " + modeString(at.mode) + " " + quote(path) + "\n")
	}
	return b.String()
}

// describe lists the requested attributes for a path about to be created.
func (at attrs) describe() string {
	var parts []string
	if at.hasMode {
		parts = append(parts, "mode "+modeString(at.mode))
	}
	if at.owner != "" || at.group != "" {
		parts = append(parts, "owner "+at.owner+":"+at.group)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// setScript sets every requested attribute of a freshly created path.
func (at attrs) setScript(path string, isLink bool) string {
	return at.fixScript(path, executor.FileInfo{IsLink: isLink, Mode: ^at.mode})
}
