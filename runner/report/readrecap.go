package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ferry-deploy/ferry/runner"
)

// ReadRecap reads the output of `ferry deploy --output json` (or the recap
// line alone) and returns its recap: the last line whose event is "recap".
// Lines that do not start with "{" are skipped: logs collected from a
// Kubernetes pod or a CI job mix ferry's stderr into its JSON. name is the
// file's name for errors, which give its line.
func ReadRecap(r io.Reader, name string) (runner.Recap, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 256<<20) // a line may carry a whole file's diff
	var (
		rc    runner.Recap
		found bool
		n     int
	)
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var head struct {
			Event string `json:"event"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			return runner.Recap{}, fmt.Errorf("%s:%d: not a line of ferry's JSON output (deploy with --output json): %w", name, n, err)
		}
		if head.Event != "recap" {
			continue
		}
		var this runner.Recap
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&this); err != nil {
			return runner.Recap{}, fmt.Errorf("%s:%d: not a deploy's recap: %w", name, n, err)
		}
		if this.Hosts == nil {
			return runner.Recap{}, fmt.Errorf("%s:%d: the recap has no hosts (a `ferry run` recap is not a deploy's)", name, n)
		}
		rc, found = this, true
	}
	if err := sc.Err(); err != nil {
		return runner.Recap{}, fmt.Errorf("%s: %w", name, err)
	}
	if !found {
		return runner.Recap{}, fmt.Errorf("%s: no recap line (deploy with --output json, and keep its whole output)", name)
	}
	return rc, nil
}
