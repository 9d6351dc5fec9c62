package runner

import "github.com/ferry-deploy/ferry/internal/shell"

// The engine's own scripts (drains, the run lock, pending handlers, become
// user) quote every value with internal/shell, under these short names.

// shq makes s one literal shell word.
func shq(s string) string { return shell.Literal(s) }

// quoteAll makes each of ss one shell word, separated by spaces.
func quoteAll(ss []string) string { return shell.QuoteAll(ss) }
