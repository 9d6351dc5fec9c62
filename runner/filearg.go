package runner

import (
	"fmt"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/modspec"
	"github.com/ferry-deploy/ferry/runner/modules"
)

// inlineFiles replaces each file argument of the module (modspec.FileArg:
// template's and copy's src) by the file's content, read from the role on
// the controller and, for a template, rendered for the host, so that
// modules only ever see content.
func (e *Engine) inlineFiles(t *roles.Task, spec modules.Spec, args, data map[string]any) error {
	for _, fa := range spec.Files {
		src, ok := args[fa.Arg].(string)
		if !ok || fa.OnTarget(args) {
			continue
		}
		delete(args, fa.Arg)
		folder := roleFolder(t, fa.Folder)
		if folder == nil {
			return fmt.Errorf("%s: %s %s: the role has no %s/ folder", taskName(t), t.Module, fa.Arg, fa.Folder)
		}
		text, display, err := folder.ReadFile(src)
		if err != nil {
			return fmt.Errorf("%s: %s %s %s: %w", taskName(t), t.Module, fa.Arg, display, err)
		}
		content := string(text)
		if fa.Folder == modspec.Templates {
			if content, err = e.opts.Render.Render(display, content, data); err != nil {
				return err
			}
		}
		args[fa.Into] = content
	}
	return nil
}

// templateTexts returns the text of the role templates a task's file
// arguments name (unrendered), for the checks that look for what a task
// reads. A name that is itself a template, or a file that cannot be read,
// is reported in unreadable.
func templateTexts(t *roles.Task) (texts []string, unreadable bool) {
	spec, _ := modspec.Lookup(t.Module)
	for _, fa := range spec.Files {
		if fa.Folder != modspec.Templates {
			continue
		}
		src, _ := t.Args[fa.Arg].(string)
		folder := roleFolder(t, fa.Folder)
		if folder == nil {
			unreadable = true
			continue
		}
		b, _, err := folder.ReadFile(src)
		if err != nil {
			unreadable = true
			continue
		}
		texts = append(texts, string(b))
	}
	return texts, unreadable
}

func roleFolder(t *roles.Task, f modspec.Folder) roles.FileSource {
	if t.Role == nil {
		return nil
	}
	return t.Role.Folder(f)
}
