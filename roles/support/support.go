// Package support holds the Go side of the built-in roles: what each role
// knows beyond its role.yml. Each role's file declares the role's health
// checks for `ferry status` (built on runner/hostread's readers); the
// haproxy role's also drains a server through HAProxy's runtime API for
// rolling deploys (the engine's runner.LoadBalancer).
//
// A new role with services or state worth watching adds a file here and
// its check to HealthChecks.
package support

import "github.com/ferry-deploy/ferry/health"

// HealthChecks are the built-in roles' checks, in the order their rows
// appear for each host.
func HealthChecks() []health.Check {
	return []health.Check{nginxHealth, haproxyHealth, keepalivedHealth, mysqlHealth, monitoringHealth}
}

// nginxHealth: the web servers' service.
var nginxHealth = health.Check{Role: "nginx", Units: []string{"nginx"}}
