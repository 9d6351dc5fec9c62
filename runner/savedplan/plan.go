// Package savedplan is the file `ferry deploy --check --out PLAN` writes and
// `ferry apply PLAN` reads: for each host, the steps of the check run (what
// each task read, as hashes, and the change it planned), and hashes of the
// inputs that produced them. Secrets never appear in it: every value that
// may hold one (variables, file content, diffs) is stored as a keyed hash.
package savedplan

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ferry-deploy/ferry/runner"
)

// Format is the version of the file format.
const Format = 1

// Plan is a saved plan.
type Plan struct {
	Format  int       `json:"format"`
	Ferry   string    `json:"ferry_version"`
	Created time.Time `json:"created"`
	// What the deploy was asked: the inventory (absolute path) and the
	// flags that select hosts and tasks. Apply uses them as they are.
	Inventory string   `json:"inventory"`
	Limit     string   `json:"limit,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	SkipTags  []string `json:"skip_tags,omitempty"`
	RolesPath []string `json:"roles_path,omitempty"`
	// Salt keys every hash of the plan, so that equal secrets in two plans
	// hash differently.
	Salt string `json:"salt"`
	// Extra is the keyed hash of the -e variables (given again to apply).
	Extra string           `json:"extra_vars"`
	Hosts map[string]*Host `json:"hosts"`
}

// Host is one host's part of a plan.
type Host struct {
	// Inputs is the keyed hash of the host's variables and roles.
	Inputs string        `json:"inputs"`
	Steps  []runner.Step `json:"steps"`
}

// New starts a plan with a fresh salt.
func New(ferryVersion string, now time.Time) (*Plan, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return &Plan{Format: Format, Ferry: ferryVersion, Created: now.UTC(), Salt: hex.EncodeToString(salt), Hosts: map[string]*Host{}}, nil
}

// Hash is the plan's keyed hash of parts.
func (p *Plan) Hash(parts ...[]byte) string {
	m := hmac.New(sha256.New, []byte(p.Salt))
	for _, b := range parts {
		fmt.Fprintf(m, "%d:", len(b))
		m.Write(b)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Write saves the plan, readable by its owner only.
func (p *Plan) Write(path string) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return nil
}

// Read loads a plan and checks that it can be applied now: its format,
// the ferry version that made it, and its age (maxAge 0: any age).
func Read(path, ferryVersion string, maxAge time.Duration, now time.Time) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: not a ferry plan: %w", path, err)
	}
	switch {
	case p.Format != Format:
		return nil, fmt.Errorf("%s: plan format %d, this ferry reads %d", path, p.Format, Format)
	case p.Ferry != ferryVersion:
		return nil, &StaleError{fmt.Sprintf("%s was made by ferry %s, this is ferry %s: plan again", path, p.Ferry, ferryVersion)}
	case p.Salt == "" || p.Hosts == nil:
		return nil, fmt.Errorf("%s: not a ferry plan (no salt or hosts)", path)
	case maxAge > 0 && now.Sub(p.Created) > maxAge:
		return nil, &StaleError{fmt.Sprintf("%s was made %s ago (at %s), more than --max-age %s: plan again",
			path, now.Sub(p.Created).Round(time.Minute), p.Created.Format(time.RFC3339), maxAge)}
	}
	return &p, nil
}

// StaleError says the plan as a whole can no longer be applied.
type StaleError struct{ Msg string }

func (e *StaleError) Error() string { return e.Msg }

// IsStale reports whether err refuses the whole plan.
func IsStale(err error) bool {
	var s *StaleError
	return errors.As(err, &s)
}
