package hostread

import "strings"

// Sections splits output printed as "@@name" marker lines, each followed by
// its content, so that one script can return several reads at once.
func Sections(out string) map[string]string {
	secs := map[string]string{}
	name := ""
	var b strings.Builder
	flush := func() {
		if name != "" {
			secs[name] = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.HasPrefix(line, "@@") {
			flush()
			name = strings.TrimSpace(line[2:])
			continue
		}
		b.WriteString(line)
	}
	flush()
	return secs
}
