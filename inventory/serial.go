package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// Serial limits how many hosts of a group change at once. It is parsed once,
// when the inventory loads; the zero value means all hosts at once.
type Serial struct {
	// Count is a number of hosts (1 or more); 0 when Percent is used or
	// for all hosts.
	Count int
	// Percent is a share of the group's hosts, 1-100; 0 when unused.
	Percent int
}

// ParseSerial accepts a host count ("1") or a share of the group ("30%").
func ParseSerial(s string) (Serial, error) {
	s = strings.TrimSpace(s)
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		n, err := parsePercent(pct)
		if err != nil || n == 0 {
			return Serial{}, fmt.Errorf("serial %q: a percentage must be 1%%-100%%", s)
		}
		return Serial{Percent: n}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return Serial{}, fmt.Errorf("serial %q: want a number of hosts (1 or more) or a percentage like \"30%%\"", s)
	}
	return Serial{Count: n}, nil
}

// IsZero tells whether the serial is unset: all hosts at once.
func (s Serial) IsZero() bool { return s == Serial{} }

// String is the serial as written in an inventory: "" (all), "1", "30%".
func (s Serial) String() string {
	switch {
	case s.Percent > 0:
		return strconv.Itoa(s.Percent) + "%"
	case s.Count > 0:
		return strconv.Itoa(s.Count)
	}
	return ""
}

// BatchSize is how many of total hosts change at once: at least one, a
// percentage rounded up.
func (s Serial) BatchSize(total int) int {
	switch {
	case s.Percent > 0:
		return max((total*s.Percent+99)/100, 1)
	case s.Count > 0:
		return s.Count
	}
	return max(total, 1)
}
