package inventory

import (
	"fmt"
	"os"
	"strings"
)

// ParseExtraVars reads -e arguments: "key=value" (the value is a string) or
// "@file.yml" (a YAML mapping). Later arguments override earlier ones.
func ParseExtraVars(args []string) (map[string]any, error) {
	out := map[string]any{}
	for _, arg := range args {
		if path, ok := strings.CutPrefix(arg, "@"); ok {
			if err := readExtraFile(path, out); err != nil {
				return nil, err
			}
			continue
		}
		key, val, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, fmt.Errorf("extra var %q: want key=value or @file.yml", arg)
		}
		if !validVarName(key) {
			return nil, fmt.Errorf("extra var %q: invalid variable name %q", arg, key)
		}
		out[key] = val
	}
	return out, nil
}

func readExtraFile(path string, out map[string]any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("extra vars: %w", err)
	}
	var p problems
	y := yamlFile{file: path, p: &p}
	if root, ok := y.parse(data); ok {
		for _, e := range y.vars(root, "in extra vars") {
			if !validVarName(e.key) {
				p.add(path, e.at.line, "invalid variable name %q", e.key)
				continue
			}
			out[e.key] = e.value
		}
	}
	if err := p.err(); err != nil {
		return fmt.Errorf("extra vars: %w", err)
	}
	return nil
}
