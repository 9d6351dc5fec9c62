package mask

import "testing"

func TestRedact(t *testing.T) {
	key := "-----BEGIN KEY-----\n  MIIEvQIBADANBgkq\n  Zq7<&>lineTwo\n  ==\n-----END KEY-----\n"
	m := New([]string{"s3cret-value", "ab", key, "", "x"})
	tests := []struct{ in, want string }{
		{"pw=s3cret-value.", "pw=********."},
		{`"s3cret-value"`, `"********"`},
		{"variable tab ab", "variable tab ********"},
		{"ab", "********"},
		{"(ab)ab_ abab", "(********)ab_ abab"},
		{"x marks x1 tax", "******** marks x1 tax"},
		{"+  MIIEvQIBADANBgkq\n+Zq7<&>lineTwo\n+==", "+  ********\n+********\n+=="},
		{`{"diff":"MIIEvQIBADANBgkq\nZq7\u003c\u0026\u003elineTwo"}`, `{"diff":"********\n********"}`},
		{`"Zq7<&>lineTwo"`, `"********"`},
		{"ünïab", "ünïab"},
	}
	for _, tt := range tests {
		if got := m.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := m.Redact(key); got == key {
		t.Errorf("the whole key is not masked: %q", got)
	}
	var none *Masker
	if none.Redact("ab") != "ab" || New(nil).Redact("ab") != "ab" {
		t.Error("an empty masker changed its input")
	}
}
