package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// Check mode's prediction of a MySQL account: what a mysql_user task's
// Apply leaves (the account, its password, its grants), so that a later
// mysql_user task on the same account plans against it. SQL run by
// mysql_query or a replica set up by mysql_replica is not predicted: after
// either would change the server, every account is unknown.

// predictedMySQLUser is an account as recorded in hoststate.State's facts.
// The password is kept as a hash, never in clear text.
type predictedMySQLUser struct {
	Version string              `json:"version"`
	Exists  bool                `json:"exists"`
	Plugin  string              `json:"plugin"`
	PwHash  string              `json:"pw_hash"` // "": not set by a task
	Grants  map[string][]string `json:"grants"`
}

const mysqlUserFact = "mysql_user"

// MySQLKind is the kind check mode touches when mysql_query or
// mysql_replica would change the server (runner.trackedKind).
const MySQLKind = "mysql"

func (m *mysqlUserModule) factKey() string { return m.name + "@" + m.host }

func pwHash(pw string) string {
	sum := sha256.Sum256([]byte("ferry mysql_user prediction\x00" + pw))
	return hex.EncodeToString(sum[:])
}

// readPredicted reads the account, or in check mode takes what an earlier
// mysql_user task of the run would have left.
func (m *mysqlUserModule) readPredicted(ctx context.Context, t *Target) (mysqlUserState, error) {
	if t.State == nil {
		return m.read(ctx, t)
	}
	ps := t.State.State
	if why := ps.Touched(MySQLKind); why != "" {
		return mysqlUserState{}, &hoststate.UnknownError{What: "mysql user " + m.display(), Because: why + ", which check mode does not predict"}
	}
	v, ok := ps.Fact(mysqlUserFact, m.factKey())
	if !ok {
		if why := ps.Touched(hoststate.Packages); why != "" {
			return mysqlUserState{}, &hoststate.UnknownError{What: "mysql user " + m.display(), Because: why + ", which may change the server"}
		}
		return m.read(ctx, t)
	}
	var p predictedMySQLUser
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return mysqlUserState{}, fmt.Errorf("mysql_user %s: predicted state: %w", m.display(), err)
	}
	st := mysqlUserState{version: p.Version, exists: p.Exists, plugin: p.Plugin, grants: maps.Clone(p.Grants)}
	if st.grants == nil {
		st.grants = map[string][]string{}
	}
	if !p.Exists || m.password == nil || m.state == "absent" {
		return st, nil
	}
	if p.PwHash == "" || !isMariaDB(p.Version) {
		// MySQL 8 hashes with a plugin and salt of its own choosing.
		return st, &hoststate.UnknownError{What: "the password of mysql user " + m.display(), Because: "an earlier task changes the account, and check mode cannot compare its password"}
	}
	st.pwMatch = p.PwHash == pwHash(*m.password)
	return st, nil
}

// predict records the account as Apply leaves it, from the state the plan
// read.
func (m *mysqlUserModule) predict(ps *hoststate.State, cur mysqlUserState) {
	p := predictedMySQLUser{Version: cur.version}
	if m.state == "present" {
		p.Exists, p.Plugin, p.Grants = true, cur.plugin, maps.Clone(cur.grants)
		if !cur.exists {
			p.Plugin, p.Grants = "", map[string][]string{}
		}
		if m.password != nil && (!cur.exists || !m.unverifiable(cur)) {
			p.PwHash = pwHash(*m.password)
			if isMariaDB(cur.version) {
				p.Plugin = "mysql_native_password"
			}
		}
		if m.privs != nil {
			p.Grants = maps.Clone(m.privs)
		}
	}
	ps.SetFact(mysqlUserFact, m.factKey(), mustJSON(p))
}
