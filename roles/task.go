package roles

import (
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/internal/suggest"

	"github.com/ferry-deploy/ferry/runner/modspec"
	"github.com/ferry-deploy/ferry/templates"
	"go.yaml.in/yaml/v3"
)

// taskKeys are the keys a task may have besides its one module key.
var taskKeys = []string{"name", "when", "loop", "notify", "tags", "become", "register", "changed_when", "check_mode", "no_log", "ignore_errors",
	"failed_when", "until", "retries", "delay", "vars", "environment", "listen", "run_once", "delegate_to", "become_user"}

// envModules are the modules whose process environment: applies to.
var envModules = []string{"command", "shell"}

// Ansible's defaults for until: 3 retries, 5 seconds apart.
const (
	defaultRetries = 3
	defaultDelay   = 5
)

func isTaskKey(k string) bool {
	for _, t := range taskKeys {
		if t == k {
			return true
		}
	}
	return false
}

// taskList parses the list under tasks: or handlers: (section).
func (p *parser) taskList(n *yaml.Node, section string) ([]*Task, error) {
	prev := p.section
	p.section = section
	defer func() { p.section = prev }()
	n = resolve(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		hint := ""
		if section == "handlers" && n.Kind == yaml.MappingNode {
			hint = " (write each handler as a task with a name: \"- name: reload nginx\")"
		}
		return nil, errorf(p.file, n.Line, "%s must be a list of tasks, got %s%s", section, kindName(n), hint)
	}
	out := make([]*Task, 0, len(n.Content))
	for _, item := range n.Content {
		if item := resolve(item); includeKind(item) != "" {
			t, err := p.include(item, includeKind(item), section)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
			continue
		} else if isBlock(item) {
			b, err := p.block(item, section)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
			continue
		}
		t, err := p.task(resolve(item))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// task parses one task. Keys that are not task keys are module keys: a task
// must have exactly one, naming a registered module.
func (p *parser) task(n *yaml.Node) (*Task, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errorf(p.file, n.Line, "a task must be a mapping (name:, a module, ...), got %s", kindName(n))
	}
	pairs, err := p.pairs(n)
	if err != nil {
		return nil, err
	}
	t := &Task{Line: n.Line, Role: p.role, File: p.file}
	var module *keyValue
	for i := range pairs {
		kv := &pairs[i]
		if isTaskKey(kv.key.Value) {
			continue
		}
		if err := p.moduleKey(kv, module, pairs); err != nil {
			return nil, err
		}
		module = kv
	}
	for _, kv := range pairs {
		if err := p.taskField(t, kv); err != nil {
			return nil, err
		}
	}
	if t.Name == "" {
		return nil, errorf(p.file, n.Line, "a task needs a name")
	}
	if module == nil {
		return nil, errorf(p.file, n.Line, "task %q has no module; a task has exactly one (package, template, service, ...)", t.Name)
	}
	t.Module = module.key.Value
	args, err := p.moduleArgs(t.Module, module.key, module.value)
	if err != nil {
		return nil, err
	}
	t.Args = args
	return t, p.checkRetryKeys(t, pairs)
}

// checkRetryKeys checks the keys that only mean something together or with
// some modules, once the whole task is known.
func (p *parser) checkRetryKeys(t *Task, pairs []keyValue) error {
	lines := map[string]int{}
	for _, kv := range pairs {
		lines[kv.key.Value] = kv.key.Line
	}
	if t.Until == "" {
		for _, k := range []string{"retries", "delay"} {
			if l, ok := lines[k]; ok {
				return errorf(p.file, l, "%s needs until: (the condition to wait for)", k)
			}
		}
	} else {
		if _, ok := lines["retries"]; !ok {
			t.Retries = defaultRetries
		}
		if _, ok := lines["delay"]; !ok {
			t.Delay = defaultDelay
		}
	}
	if l, ok := lines["environment"]; ok && !contains(envModules, t.Module) {
		return errorf(p.file, l, "environment applies to %s tasks only, not %s", strings.Join(envModules, " and "), t.Module)
	}
	return nil
}

// moduleKey checks a key that is not a task key: a registered module, and
// the only one of the task.
func (p *parser) moduleKey(kv, prev *keyValue, all []keyValue) error {
	k := kv.key.Value
	if _, ok := modspec.Lookup(k); !ok {
		// A near miss of a task key ("nofity") is more likely than an
		// unknown module when the task has its module already.
		if s := suggest.Closest(k, taskKeys); s != "" && hasModule(all) {
			return errorf(p.file, kv.key.Line, "unknown task key %q (did you mean %q?)", k, s)
		}
		if s := suggest.Closest(k, modspec.Names()); s != "" {
			return errorf(p.file, kv.key.Line, "unknown module %q (did you mean %q?)", k, s)
		}
		if s := suggest.Closest(k, taskKeys); s != "" {
			return errorf(p.file, kv.key.Line, "unknown task key %q (did you mean %q?)", k, s)
		}
		return errorf(p.file, kv.key.Line, "unknown module or task key %q", k)
	}
	if prev != nil {
		return errorf(p.file, kv.key.Line, "two modules in one task (%q on line %d and %q); a task has exactly one", prev.key.Value, prev.key.Line, k)
	}
	return nil
}

func hasModule(pairs []keyValue) bool {
	for _, kv := range pairs {
		if _, ok := modspec.Lookup(kv.key.Value); ok && !isTaskKey(kv.key.Value) {
			return true
		}
	}
	return false
}

// taskField decodes one task key into t; module keys are skipped.
func (p *parser) taskField(t *Task, kv keyValue) error {
	k, v := kv.key.Value, resolve(kv.value)
	switch k { // in the order of taskKeys
	case "name":
		s, err := p.str(k, v)
		if err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			return errorf(p.file, v.Line, "name must not be empty")
		}
		t.Name = s
	case "when":
		if v.Kind != yaml.ScalarNode || isNull(v) {
			return errorf(p.file, v.Line, "when must be one template expression (eq .x \"y\"), got %s", kindName(v))
		}
		t.When = v.Value
		return p.checkTemplate("when", v, templates.WrapExpr(v.Value))
	case "loop":
		return p.loop(t, v)
	case "notify":
		t.NotifyLine = v.Line
		return decodeInto(&t.Notify, p.strList, k, v)
	case "tags":
		return decodeInto(&t.Tags, p.strList, k, v)
	case "become":
		return decodeInto(&t.Become, p.optionalBool, k, v)
	case "register":
		s, err := p.str(k, v)
		if err != nil {
			return err
		}
		if !identRE.MatchString(s) {
			return errorf(p.file, v.Line, "register %q cannot be read in templates; use letters, digits and _", s)
		}
		t.Register = s
	case "changed_when":
		return decodeInto(&t.ChangedWhen, p.optionalBool, k, v)
	case "check_mode":
		s, err := p.str(k, v)
		if err != nil {
			return err
		}
		if s != "run" {
			return errorf(p.file, v.Line, "check_mode must be \"run\" (run this read-only command for real in check mode), got %q", s)
		}
		t.CheckModeRun = true
	case "no_log":
		return decodeInto(&t.NoLog, p.boolean, k, v)
	case "ignore_errors":
		return decodeInto(&t.IgnoreErrors, p.boolean, k, v)
	case "failed_when", "until":
		var text string
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!bool":
			text = v.Value
		case v.Kind == yaml.ScalarNode && !isNull(v):
			text = v.Value
		default:
			return errorf(p.file, v.Line, "%s must be one template expression (ne .result.rc 0), got %s", k, kindName(v))
		}
		if k == "until" {
			t.Until = text
		} else {
			t.FailedWhen = text
		}
		return p.checkTemplate(k, v, templates.WrapExpr(text))
	case "retries":
		return decodeInto(&t.Retries, p.count, k, v)
	case "delay":
		return decodeInto(&t.Delay, p.count, k, v)
	case "vars", "environment":
		m, err := p.varMap(k, v)
		if err != nil {
			return err
		}
		if k == "vars" {
			t.Vars = m
		} else {
			for name, val := range m {
				switch val.(type) {
				case string, int, float64, bool:
				default:
					what := "a mapping"
					if _, isList := val.([]any); isList {
						what = "a list"
					}
					return errorf(p.file, v.Line, "environment %s must be a string, got %s", name, what)
				}
			}
			t.Environment = m
		}
	case "listen":
		if !t.IsHandler && p.section != "handlers" {
			return errorf(p.file, kv.key.Line, "listen is for handlers: a topic notify may name")
		}
		return decodeInto(&t.Listen, p.strList, k, v)
	case "run_once":
		return decodeInto(&t.RunOnce, p.boolean, k, v)
	case "delegate_to", "become_user":
		return p.targetKey(t, k, v)
	}
	return nil
}

// decodeInto sets *field to what decode makes of the key's value v, or
// returns decode's error.
func decodeInto[T any](field *T, decode func(key string, v *yaml.Node) (T, error), key string, v *yaml.Node) error {
	x, err := decode(key, v)
	if err == nil {
		*field = x
	}
	return err
}

func (p *parser) loop(t *Task, v *yaml.Node) error {
	switch {
	case v.Kind == yaml.SequenceNode:
		items, err := p.decode(v)
		if err != nil {
			return err
		}
		t.LoopItems, _ = items.([]any)
		if t.LoopItems == nil {
			t.LoopItems = []any{}
		}
		return p.checkStrings("loop", v)
	case v.Kind == yaml.ScalarNode && v.Tag == "!!str" && identRE.MatchString(v.Value):
		t.LoopVar = v.Value
		return nil
	case v.Kind == yaml.ScalarNode && v.Tag == "!!str" && isOneAction(v.Value):
		// A list computed per host: loop: '{{ hosts "web" }}'.
		t.LoopExpr = v.Value
		return p.checkTemplate("loop", v, v.Value)
	case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
		return errorf(p.file, v.Line, "loop must be a list, the name of a list variable, or one {{ action }} giving a list; got %q", v.Value)
	}
	return errorf(p.file, v.Line, "loop must be a list or the name of a list variable, got %s", kindName(v))
}

// count reads a whole number of at least 0 (retries, delay).
func (p *parser) count(key string, v *yaml.Node) (int, error) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
		return 0, errorf(p.file, v.Line, "%s must be a whole number, got %s", key, kindName(v))
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil || n < 0 || n > 100000 {
		return 0, errorf(p.file, v.Line, "%s must be a whole number from 0 to 100000, got %s", key, v.Value)
	}
	return n, nil
}

// varMap reads a mapping of variable names to values (vars:,
// environment:); string values are templates, checked here.
func (p *parser) varMap(key string, v *yaml.Node) (map[string]any, error) {
	if v.Kind != yaml.MappingNode {
		return nil, errorf(p.file, v.Line, "%s must be a mapping (name: value), got %s", key, kindName(v))
	}
	pairs, err := p.pairs(v)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(pairs))
	for _, kv := range pairs {
		if !identRE.MatchString(kv.key.Value) {
			return nil, errorf(p.file, kv.key.Line, "%s name %q: use letters, digits and _", key, kv.key.Value)
		}
		val, err := p.decode(kv.value)
		if err != nil {
			return nil, err
		}
		if err := p.checkStrings(key, kv.value); err != nil {
			return nil, err
		}
		out[kv.key.Value] = val
	}
	return out, nil
}

func (p *parser) str(key string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		return "", errorf(p.file, v.Line, "%s must be a string, got %s", key, kindName(v))
	}
	return v.Value, nil
}

// strList accepts one string or a list of strings.
func (p *parser) strList(key string, v *yaml.Node) ([]string, error) {
	if v.Kind == yaml.ScalarNode && !isNull(v) {
		return []string{v.Value}, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, errorf(p.file, v.Line, "%s must be a string or a list of strings, got %s", key, kindName(v))
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			return nil, errorf(p.file, item.Line, "%s must be a string or a list of strings, got %s in the list", key, kindName(item))
		}
		out = append(out, item.Value)
	}
	return out, nil
}

func (p *parser) boolean(key string, v *yaml.Node) (bool, error) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		return false, errorf(p.file, v.Line, "%s must be true or false, got %s", key, kindName(v))
	}
	var b bool
	if err := v.Decode(&b); err != nil {
		return false, p.yamlError(err)
	}
	return b, nil
}

// optionalBool is boolean for the keys a task may leave out to mean
// something else (nil): become is then the block's or the connection's,
// changed_when the module's own answer.
func (p *parser) optionalBool(key string, v *yaml.Node) (*bool, error) {
	b, err := p.boolean(key, v)
	return &b, err
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isOneAction reports whether s is a single {{ action }} and nothing else,
// the only template form whose value can be a list (see
// templates.Engine.RenderValue).
func isOneAction(s string) bool {
	return strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1
}
