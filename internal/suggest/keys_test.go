package suggest

import "testing"

// Cases from template keys (moved here with the function).
func TestClosestTemplateKeys(t *testing.T) {
	keys := []string{"nginx_port", "nginx_root", "site_name", "os_id", "facts"}
	tests := []struct{ in, want string }{
		{"nginx_prot", "nginx_port"}, // swapped neighbours are one edit
		{"nginx_rot", "nginx_root"},
		{"Site_Name", "site_name"}, // case does not count
		{"os_idd", "os_id"},
		{"fcat", ""}, // two edits in a short word is too far
		{"mysql_role", ""},
		{"nginx_port", ""}, // the key exists: nothing to suggest
	}
	for _, tt := range tests {
		if got := Closest(tt.in, keys); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
