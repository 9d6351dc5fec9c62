package modules

import (
	udiff "github.com/aymanbagabas/go-udiff"
)

// fileDiff is the unified diff shown for a file change, with headers that
// say which side is which: "--- DEST (current)" and "+++ DEST (planned)".
func fileDiff(dest string, current, planned []byte, secret bool) string {
	if secret {
		return "content changed (secret)"
	}
	return udiff.Unified(dest+" (current)", dest+" (planned)", string(current), string(planned))
}
