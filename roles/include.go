package roles

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// importKeys and includeKeys are the keys an import_tasks or include_tasks
// may have. An import is static: it is a block of the file's tasks, and
// its keys apply to each of them. An include runs when reached: its when,
// loop and vars are evaluated then, once.
var (
	importKeys  = []string{"import_tasks", "name", "when", "become", "tags", "vars", "no_log", "delegate_to", "become_user"}
	includeKeys = []string{"include_tasks", "name", "when", "loop", "vars", "tags"}
)

// includeKind returns "import_tasks" or "include_tasks" when n is one.
func includeKind(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]).Value; k == "import_tasks" || k == "include_tasks" || k == "import_role" || k == "include_role" {
			return k
		}
	}
	return ""
}

func (p *parser) include(n *yaml.Node, kind, section string) (*Task, error) {
	if section == "handlers" {
		return nil, errorf(p.file, n.Line, "%s is not allowed in handlers", kind)
	}
	pairs, err := p.pairs(n)
	if err != nil {
		return nil, err
	}
	allowed := importKeys
	if strings.HasPrefix(kind, "include_") {
		allowed = includeKeys
	}
	allowed = append([]string{kind}, allowed[1:]...)
	t := &Task{Line: n.Line, Role: p.role, File: p.file}
	var fileNode *yaml.Node
	for _, kv := range pairs {
		k := kv.key.Value
		switch {
		case k == kind:
			fileNode = resolve(kv.value)
		case !slices.Contains(allowed, k):
			return nil, errorf(p.file, kv.key.Line, "%s has no key %q%s; it takes %s", kind, k, didYouMean(k, allowed), quoteList(allowed))
		default:
			if err := p.taskField(t, kv); err != nil {
				return nil, err
			}
		}
	}
	var tasks []*Task
	var display string
	if strings.HasSuffix(kind, "_role") {
		if tasks, display, t.IncludeRole, err = p.roleTasks(kind, fileNode); err != nil {
			return nil, err
		}
		if t.Name == "" {
			t.Name = kind + " " + t.IncludeRole.Name
		}
		return p.includeOrImport(t, kind, tasks, display)
	}
	if fileNode.Kind != yaml.ScalarNode || fileNode.Tag != "!!str" || strings.TrimSpace(fileNode.Value) == "" {
		return nil, errorf(p.file, fileNode.Line, "%s must be a file name of the role's tasks/ folder, got %s", kind, kindName(fileNode))
	}
	if strings.Contains(fileNode.Value, "{{") {
		return nil, errorf(p.file, fileNode.Line, "%s takes a file name, not a template: every file is checked before anything runs", kind)
	}
	tasks, display, err = p.taskFile(kind, p.role, fileNode.Value, fileNode.Line)
	if err != nil {
		return nil, err
	}
	if t.Name == "" {
		t.Name = kind + " " + fileNode.Value
	}
	return p.includeOrImport(t, kind, tasks, display)
}

// includeOrImport makes t an include (its tasks run when it is reached)
// or, for an import, a block whose keys apply to each of its tasks.
func (p *parser) includeOrImport(t *Task, kind string, tasks []*Task, display string) (*Task, error) {
	if strings.HasPrefix(kind, "include_") {
		t.Include, t.IncludeFile = tasks, display
		if len(tasks) == 0 {
			t.Include = []*Task{} // still an include
		}
		return t, nil
	}
	t.Block = tasks
	for _, leaf := range Flatten(tasks) {
		if err := p.inherit(t, leaf); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// taskFile parses a file of the role's tasks/ folder: a list of tasks.
// Errors inside it name it; a cycle of files names them all.
// The file is role's (the parsed role's own, or one include_role names),
// and so are the tasks it holds: their templates and files come from it.
func (p *parser) taskFile(kind string, role *Role, name string, line int) ([]*Task, string, error) {
	if role.TaskFiles == nil {
		return nil, "", errorf(p.file, line, "%s: the role has no tasks/ folder", kind)
	}
	content, display, err := role.TaskFiles.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		hint := ""
		if l, ok := role.TaskFiles.(interface{ names() []string }); ok {
			hint = didYouMean(name, l.names())
		}
		return nil, display, errorf(p.file, line, "%s: %s not found%s", kind, display, hint)
	}
	if err != nil {
		return nil, display, &Error{File: p.file, Line: line, Msg: kind + ": " + err.Error(), Err: err}
	}
	chain := append(slices.Clone(p.chain), p.file)
	if slices.Contains(chain, display) {
		return nil, display, errorf(p.file, line, "%s: cycle: %s -> %s", kind, strings.Join(chain[slices.Index(chain, display):], " -> "), display)
	}
	sub := &parser{file: display, role: role, engine: p.engine, loader: p.loader, stack: p.stack, chain: chain}
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, display, nil
		}
		return nil, display, sub.yamlError(err)
	}
	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = resolve(root.Content[0])
	}
	if root.Kind != yaml.SequenceNode && !isNull(root) {
		return nil, display, errorf(display, root.Line, "a tasks file must be a list of tasks, got %s", kindName(root))
	}
	tasks, err := sub.taskList(root, "tasks")
	return tasks, display, err
}
