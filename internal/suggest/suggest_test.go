package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"nginx", "nginx", 0},
		{"ngnix", "nginx", 1}, // neighbours swapped: one edit
		{"hots", "hosts", 1},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"hosts", "roles", "vars", "children"}
	for _, tt := range []struct{ word, want string }{
		{"hots", "hosts"},
		{"Roles", "roles"},
		{"vars", ""},   // exists: nothing to suggest
		{"zzzzzz", ""}, // nothing near
		{"childern", "children"},
	} {
		if got := Closest(tt.word, keys); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
