package runner

import (
	"errors"
	"fmt"
)

// Merge adds to rc the recap of another shard of the same deploy (`ferry
// recap merge`), so that the result is the recap one process deploying
// every host would have printed: the hosts of both, their totals summed,
// the longest duration (shards run at the same time), interrupted if either
// was. It refuses recaps that cannot be shards of one deploy: a host in
// both, or a check run merged with a real one.
func (rc *Recap) Merge(o Recap) error {
	if o.Event != "recap" {
		return errors.New("not a recap")
	}
	if rc.Hosts == nil {
		*rc = Recap{Event: "recap", Hosts: map[string]*HostStats{}, Check: o.Check}
	} else if rc.Check != o.Check {
		return fmt.Errorf("a check run and a real run do not merge (check: %t here, %t before)", o.Check, rc.Check)
	}
	for name := range o.Hosts {
		if _, dup := rc.Hosts[name]; dup {
			return fmt.Errorf("host %s is in two recaps: shards of one deploy share no host", name)
		}
	}
	for name, st := range o.Hosts {
		s := *st
		rc.Hosts[name] = &s
	}
	rc.Changed += o.Changed
	rc.Failed += o.Failed
	rc.Unknown += o.Unknown
	rc.Unreachable += o.Unreachable
	rc.Refused += o.Refused
	rc.Interrupted = rc.Interrupted || o.Interrupted
	rc.DurationMS = max(rc.DurationMS, o.DurationMS)
	return nil
}
