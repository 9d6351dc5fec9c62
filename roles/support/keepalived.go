package support

import (
	"fmt"
	"strings"

	"github.com/ferry-deploy/ferry/health"
	"github.com/ferry-deploy/ferry/runner/hostread"
)

// keepalivedHealth: each load balancer's failover readiness (the role's
// ferry-lb-handover script), and across hosts who holds the floating
// address (virtual_address): exactly one host must.
var keepalivedHealth = health.Check{
	Role:  "keepalived",
	Units: []string{"keepalived"},
	Script: func(map[string]any) string {
		return health.Ask("addr", hostread.Addresses.Script) +
			`h=$(command -v ferry-lb-handover || echo /usr/local/sbin/ferry-lb-handover)
if [ -x "$h" ]; then
  ` + health.Ask("lbha", `"$h" status`) + `fi
`
	},
	Host: func(a *health.Answer, _ health.Options) []health.Row {
		s, ok := a.Sections["lbha"]
		if !ok {
			return nil
		}
		return []health.Row{parseHandover(a.Host.Name, s.Text).row()}
	},
	Across: vipRows,
}

// vipRows says who holds the floating address: one host, and whether
// another load balancer is ready to take it over.
func vipRows(all []*health.Answer, o health.Options) []health.Row {
	vip, ok := health.ParseAddr(health.VarString(o.Globals, "virtual_address", ""))
	if !ok {
		return nil
	}
	var holders []string
	var lbs []handover
	reachable := 0
	for _, a := range all {
		if a.Err != nil {
			continue
		}
		reachable++
		if s, ok := a.Sections["addr"]; ok {
			for _, ad := range hostread.ParseAddresses(s.Text) {
				if ad.Addr == vip {
					holders = append(holders, a.Host.Name)
				}
			}
		}
		if s, ok := a.Sections["lbha"]; ok {
			lbs = append(lbs, parseHandover(a.Host.Name, s.Text))
		}
	}
	if reachable == 0 {
		return nil
	}
	r := health.Row{Host: "-", Check: "vip " + vip.String()}
	switch len(holders) {
	case 0:
		r.Status, r.Detail = health.Fail, "held by no reachable host"
	case 1:
		r.Host, r.Status, r.Detail = holders[0], health.OK, "held by "+holders[0]
		r.Status, r.Detail = standbyDetail(r.Status, r.Detail, holders[0], lbs)
	default:
		r.Status, r.Detail = health.Fail, "held by more than one host: "+strings.Join(holders, ", ")
	}
	return []health.Row{r}
}

// handover is one load balancer as the keepalived role's ferry-lb-handover
// reports it (`status`: one line of key=value pairs).
type handover struct {
	host        string
	state       string // keepalived's VRRP state: MASTER, BACKUP, FAULT
	holds       bool   // the floating address is here
	serves      bool   // HAProxy serves the site here
	maintenance bool   // out on purpose (ferry's lb drain)
	haproxyDown bool   // haproxy.service stopped or died
}

func parseHandover(host, text string) handover {
	lb := handover{host: host}
	for _, f := range strings.Fields(text) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "state":
			lb.state = v
		case "holds":
			lb.holds = v == "yes"
		case "serves":
			lb.serves = v == "yes"
		case "maintenance":
			lb.maintenance = v != "0" && v != ""
		case "haproxy_down":
			lb.haproxyDown = v != "0" && v != ""
		}
	}
	if lb.state == "" {
		lb.state = "UNKNOWN"
	}
	return lb
}

// ready says whether this host can take the floating address at once.
func (lb handover) ready() bool {
	return (lb.state == "BACKUP" || lb.state == "MASTER") && lb.serves && !lb.maintenance && !lb.haproxyDown
}

// why lists what keeps the host from being ready.
func (lb handover) why() string {
	var r []string
	if lb.state != "BACKUP" && lb.state != "MASTER" {
		r = append(r, "keepalived "+lb.state)
	}
	if lb.maintenance {
		r = append(r, "in maintenance")
	}
	if lb.haproxyDown {
		r = append(r, "haproxy stopped")
	}
	if !lb.serves {
		r = append(r, "does not serve the site")
	}
	return strings.Join(r, ", ")
}

// row is the host's failover row: ok while it can hold the address, warn
// while it is out for maintenance, fail otherwise.
func (lb handover) row() health.Row {
	r := health.Row{Host: lb.host, Check: "failover"}
	switch {
	case lb.ready():
		r.Status, r.Detail = health.OK, strings.ToLower(lb.state)+", ready"
	case lb.maintenance:
		r.Status, r.Detail = health.Warn, lb.why()
	default:
		r.Status, r.Detail = health.Fail, lb.why()
	}
	return r
}

// standbyDetail adds to the floating address row whether another load
// balancer is ready to take the address: without one, the next failure of
// the holder is an outage (warn).
func standbyDetail(status, detail, holder string, lbs []handover) (string, string) {
	var ready, not []string
	for _, lb := range lbs {
		if lb.host == holder {
			continue
		}
		if lb.ready() {
			ready = append(ready, lb.host)
		} else {
			not = append(not, fmt.Sprintf("%s (%s)", lb.host, lb.why()))
		}
	}
	switch {
	case len(ready) > 0:
		return status, detail + "; ready to take it: " + strings.Join(ready, ", ")
	case len(not) > 0:
		return health.Warn, detail + "; no other load balancer ready: " + strings.Join(not, ", ")
	}
	return status, detail
}
