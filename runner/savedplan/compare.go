package savedplan

import (
	"fmt"
	"slices"

	"github.com/ferry-deploy/ferry/runner"
)

// Diff compares the steps a host plans now with the saved ones and says
// the first difference, in plan order ("" when they are the same).
func Diff(saved, now []runner.Step) string {
	byKey := map[string]runner.Step{}
	for _, s := range now {
		byKey[s.Key()] = s
	}
	seen := map[string]bool{}
	for _, s := range saved {
		seen[s.Key()] = true
		n, ok := byKey[s.Key()]
		if !ok {
			return fmt.Sprintf("%s: planned %s, not planned any more", s.Name(), s.Status)
		}
		if why := stepDiff(s, n); why != "" {
			return s.Name() + ": " + why
		}
	}
	for _, s := range now {
		if !seen[s.Key()] {
			return fmt.Sprintf("%s: now %s, not in the plan", s.Name(), s.Status)
		}
	}
	return ""
}

func stepDiff(saved, now runner.Step) string {
	// What was read first: it names the file that changed.
	if !slices.Equal(saved.Reads, now.Reads) {
		for i, r := range saved.Reads {
			switch {
			case i >= len(now.Reads):
				return r.What + " is no longer read"
			case now.Reads[i].What != r.What:
				return fmt.Sprintf("reads %s where the plan read %s", now.Reads[i].What, r.What)
			case now.Reads[i].SHA256 != r.SHA256:
				return r.What + " differs from what the plan read"
			}
		}
		return now.Reads[len(saved.Reads)].What + " is read, the plan did not read it"
	}
	if saved.Status != now.Status {
		return fmt.Sprintf("the plan says %s, the host now %s", saved.Status, now.Status)
	}
	if saved.Change != now.Change {
		return "the planned change differs"
	}
	return ""
}

// Expect checks one step the real run is about to apply against the saved
// steps of its host. A step the plan called unknown, or that belongs to a
// task the plan called unknown as a whole, may go either way.
func Expect(saved []runner.Step, now runner.Step) string {
	for _, s := range saved {
		if s.Key() == now.Key() {
			if s.Status == runner.StatusUnknown {
				return ""
			}
			if s.Status != now.Status {
				return fmt.Sprintf("the plan says %s, the host now %s", s.Status, now.Status)
			}
			if s.Change != now.Change {
				return "the planned change differs"
			}
			return ""
		}
	}
	for _, s := range saved {
		if s.Kind == now.Kind && s.Role == now.Role && s.Task == now.Task && s.Item == "" && s.Status == runner.StatusUnknown {
			return ""
		}
	}
	return "not in the plan"
}
