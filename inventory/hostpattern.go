package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The host-pattern grammar of ansible-core (parsing/utils/addresses.py),
// translated to RE2: a pattern is split into a host and a port only when the
// host part is a valid IPv4 address, IPv6 address or host name (ranges
// allowed); otherwise the whole pattern is the host's name, port included.
var (
	bracketedHostPort = regexp.MustCompile(`^\[(.+)\]:([0-9]+)$`)
	hostPort          = regexp.MustCompile(`^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`)

	numericRange = `\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	hexRange     = `\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`
	alnumRange   = `\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	ipv4Part     = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|` + numericRange + `)`
	ipv6Part     = `(?:[0-9a-f]{1,4}|` + hexRange + `)`
	ipv4Re       = regexp.MustCompile(`(?i)^(?:` + ipv4Part + `\.){3}` + ipv4Part + `$`)
	// Python's pattern puts ^ on its first alternative and $ on its last
	// only, so most alternatives need match only a prefix; kept as is.
	ipv6Re = regexp.MustCompile(strings.NewReplacer("P", ipv6Part).Replace(`(?i)^(?:` +
		`(?:P:){7}P|(?:P:){1,6}:|(?:P:)(?::P){1,6}|(?:P:){2}(?::P){1,5}|(?:P:){3}(?::P){1,4}|` +
		`(?:P:){4}(?::P){1,3}|(?:P:){5}(?::P){1,2}|(?:P:){6}(?::P)|:(?::P){1,6}|P?::|` +
		`(?:0:){6}(?:P\.){3}P|::(?:ffff:)?(?:P\.){3}P|(?:0:){5}ffff:(?:P\.){3}P$)`))
	// A label: word characters, '-' and ranges; it may not end in '-' or
	// '_' (Python's look-behind, checked in validHostName).
	labelRe    = `(?:[\p{L}\p{N}_]|` + alnumRange + `)(?:[\p{L}\p{N}_-]|` + alnumRange + `)*`
	hostnameRe = regexp.MustCompile(`(?i)^` + labelRe + `(?:\.` + labelRe + `)*$`)
)

func validHostName(s string) bool {
	if !hostnameRe.MatchString(s) {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if strings.HasSuffix(label, "-") || strings.HasSuffix(label, "_") {
			return false
		}
	}
	return true
}

// splitHostPort is ansible-core's parse_address with ranges allowed. ok is
// false when the pattern is no valid address; Ansible then takes the whole
// pattern as the name, with no port.
func splitHostPort(pattern string) (host string, port int, ok bool) {
	addr := pattern
	if m := bracketedHostPort.FindStringSubmatch(addr); m != nil {
		addr, port = m[1], atoiPort(m[2])
	}
	if m := hostPort.FindStringSubmatch(addr); m != nil {
		addr, port = m[1], atoiPort(m[2])
	}
	if !ipv4Re.MatchString(addr) && !ipv6Re.MatchString(addr) && !validHostName(addr) {
		return pattern, 0, false
	}
	return addr, port, true
}

func atoiPort(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1 // beyond int: reported as an invalid port later
	}
	return n
}

// expandHostPattern turns one host pattern of an inventory into host names
// and the port they share (0 when none): "web[01:03]:2222" is web01, web02
// and web03 on port 2222.
func expandHostPattern(pattern string) ([]string, int, error) {
	host, port, _ := splitHostPort(pattern)
	if strings.HasSuffix(strings.TrimSpace(pattern), ":") && port == 0 {
		return nil, 0, fmt.Errorf("invalid host pattern %q: a trailing ':' must be followed by a port", pattern)
	}
	if port < 0 || port > 65535 {
		return nil, 0, fmt.Errorf("invalid host pattern %q: port out of range 1-65535", pattern)
	}
	var names []string
	if err := expandRanges(host, &names, 0); err != nil {
		return nil, 0, fmt.Errorf("host pattern %q: %v", pattern, err)
	}
	for _, n := range names {
		if strings.TrimSpace(n) == "---" {
			return nil, 0, fmt.Errorf("invalid host pattern %q: '---' is normally a sign this is a YAML file", pattern)
		}
	}
	return names, port, nil
}

// maxRangeHosts bounds what one pattern may expand to, so that a typo like
// web[0:99999999] fails fast instead of exhausting memory.
const maxRangeHosts = 1_000_000

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// expandRanges is ansible-core's expand_hostname_range: the first [a:b] or
// [a:b:step] is expanded (letters or numbers, zero-padded when a is written
// with leading zeros), then the rest recursively.
func expandRanges(line string, out *[]string, depth int) error {
	if !strings.Contains(line, "[") {
		*out = append(*out, line)
		return nil
	}
	if depth > 16 {
		return fmt.Errorf("too many ranges")
	}
	parts := strings.Split(strings.Replace(strings.Replace(line, "[", "|", 1), "]", "|", 1), "|")
	if len(parts) != 3 {
		return fmt.Errorf("a range is written [begin:end] or [begin:end:step]")
	}
	head, nrange, tail := parts[0], parts[1], parts[2]
	bounds := strings.Split(nrange, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return fmt.Errorf("host range must be begin:end or begin:end:step")
	}
	beg, end := bounds[0], bounds[1]
	step := 1
	if len(bounds) == 3 {
		n, err := strconv.Atoi(strings.TrimSpace(bounds[2]))
		if err != nil || n == 0 {
			return fmt.Errorf("host range step %q must be a number other than 0", bounds[2])
		}
		step = n
	}
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return fmt.Errorf("host range must specify end value")
	}
	width := 0
	if beg[0] == '0' && len(beg) > 1 {
		width = len(beg)
		if len(end) != width {
			return fmt.Errorf("host range must specify equal-length begin and end formats")
		}
	}
	var seq []string
	ib, ie := strings.Index(letters, beg), strings.Index(letters, end)
	if ib >= 0 && ie >= 0 {
		if ib > ie {
			return fmt.Errorf("host range must have begin <= end")
		}
		if step < 0 {
			return nil // Python's slice with a negative step from begin to end is empty
		}
		for i := ib; i <= ie; i += step {
			seq = append(seq, letters[i:i+1])
		}
	} else {
		b, err1 := strconv.Atoi(strings.TrimSpace(beg))
		e, err2 := strconv.Atoi(strings.TrimSpace(end))
		if err1 != nil || err2 != nil {
			return fmt.Errorf("host range [%s] mixes letters and numbers or is not a range", nrange)
		}
		if n := (e - b) / step; n > maxRangeHosts {
			return fmt.Errorf("host range [%s] expands to more than %d hosts", nrange, maxRangeHosts)
		}
		for i := b; (step > 0 && i <= e) || (step < 0 && i > e+1); i += step {
			s := strconv.Itoa(i)
			if width > 0 && len(s) < width {
				s = strings.Repeat("0", width-len(s)) + s
			}
			seq = append(seq, s)
		}
	}
	if len(*out)+len(seq) > maxRangeHosts {
		return fmt.Errorf("host pattern expands to more than %d hosts", maxRangeHosts)
	}
	for _, s := range seq {
		if err := expandRanges(head+s+tail, out, depth+1); err != nil {
			return err
		}
	}
	return nil
}
