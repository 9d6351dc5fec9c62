package hostread

import (
	"net/netip"
	"strings"
)

// Addr is one address of an interface.
type Addr struct {
	Iface string
	Addr  netip.Addr
	Bits  int // prefix length
}

// AddressesScript prints every address of every interface (iproute2), one
// line each; scripts that read several things at once embed it.
const AddressesScript = "ip -o addr show"

// Addresses reads every address of every interface.
var Addresses = Reader[[]Addr]{
	Name:   "addresses",
	Script: AddressesScript,
	Parse:  infallible(ParseAddresses),
}

// ParseAddresses reads `ip -o addr show`: one line per address,
// "N: IFACE    inet ADDR/BITS ..." (or inet6); other lines are skipped.
func ParseAddresses(text string) []Addr {
	var out []Addr
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || (f[2] != "inet" && f[2] != "inet6") {
			continue
		}
		p, err := netip.ParsePrefix(f[3])
		if err != nil {
			continue
		}
		out = append(out, Addr{Iface: f[1], Addr: p.Addr(), Bits: p.Bits()})
	}
	return out
}
