// Package suggest finds the word a user most likely meant, for "did you
// mean" hints in inventory, role and template errors.
package suggest

import "strings"

// Closest returns the candidate nearest to word by edit distance (case
// ignored), or "" when word is itself a candidate or none is near enough to
// be a plausible typo: at most a third of the longer word, between 1 and 3
// edits.
func Closest(word string, candidates []string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		if c == word {
			return ""
		}
		d := Distance(strings.ToLower(word), strings.ToLower(c))
		limit := min(max(max(len(word), len(c))/3, 1), 3)
		if d > limit {
			continue
		}
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the optimal string alignment distance between a and b, in
// bytes: Levenshtein plus the swap of two neighbours ("ngnix" is one edit
// from "nginx"), the commonest typo.
func Distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
