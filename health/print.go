package health

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
)

var space = regexp.MustCompile(`\s+`)

// Print writes the rows as a table (human) or as one JSON object per row
// and a summary last (json). Every detail passes through redact.
func Print(w io.Writer, format string, rows []Row, redact func(string) string) error {
	counts := map[string]int{}
	for i := range rows {
		r := &rows[i]
		r.Detail = redact(space.ReplaceAllString(strings.TrimSpace(r.Detail), " "))
		counts[r.Status]++
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(struct {
				Event string `json:"event"`
				Row
			}{"check", r}); err != nil {
				return err
			}
		}
		return enc.Encode(map[string]any{
			"event": "summary", "healthy": counts[Fail] == 0 && counts[Unreachable] == 0,
			"ok": counts[OK], "warn": counts[Warn], "fail": counts[Fail], "unreachable": counts[Unreachable],
		})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tCHECK\tSTATUS\tDETAIL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Host, r.Check, r.Status, r.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "healthy"
	if counts[Fail] > 0 || counts[Unreachable] > 0 {
		verdict = "UNHEALTHY"
	}
	_, err := fmt.Fprintf(w, "\n%s: %d ok, %d warn, %d fail, %d unreachable\n", verdict,
		counts[OK], counts[Warn], counts[Fail], counts[Unreachable])
	return err
}
