package main

import (
	"fmt"
	"strings"
)

// lbHA is one load balancer as the keepalived role's ferry-lb-handover
// reports it (`status`: one line of key=value pairs).
type lbHA struct {
	host        string
	state       string // keepalived's VRRP state: MASTER, BACKUP, FAULT
	holds       bool   // the floating address is here
	serves      bool   // HAProxy serves the site here
	maintenance bool   // out on purpose (ferry's lb drain)
	haproxyDown bool   // haproxy.service stopped or died
}

func parseLBHA(host, text string) lbHA {
	lb := lbHA{host: host}
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
func (lb lbHA) ready() bool {
	return (lb.state == "BACKUP" || lb.state == "MASTER") && lb.serves && !lb.maintenance && !lb.haproxyDown
}

// why lists what keeps the host from being ready.
func (lb lbHA) why() string {
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

// check is the host's failover row: ok while it can hold the address, warn
// while it is out for maintenance, fail otherwise.
func (lb lbHA) check() statusCheck {
	c := statusCheck{Host: lb.host, Check: "failover"}
	switch {
	case lb.ready():
		c.Status, c.Detail = statusOK, strings.ToLower(lb.state)+", ready"
	case lb.maintenance:
		c.Status, c.Detail = statusWarn, lb.why()
	default:
		c.Status, c.Detail = statusFail, lb.why()
	}
	return c
}

// standbyDetail adds to the floating address row whether another load
// balancer is ready to take the address: without one, the next failure of
// the holder is an outage (warn).
func standbyDetail(status, detail, holder string, lbs []lbHA) (string, string) {
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
		return statusWarn, detail + "; no other load balancer ready: " + strings.Join(not, ", ")
	}
	return status, detail
}
