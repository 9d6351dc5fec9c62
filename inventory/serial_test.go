package inventory

import "testing"

func TestParseSerial(t *testing.T) {
	tests := []struct {
		in      string
		want    Serial
		str     string
		batchOf int // BatchSize of 7 hosts
		wantErr bool
	}{
		{in: "1", want: Serial{Count: 1}, str: "1", batchOf: 1},
		{in: " 3 ", want: Serial{Count: 3}, str: "3", batchOf: 3},
		{in: "30%", want: Serial{Percent: 30}, str: "30%", batchOf: 3},
		{in: "100%", want: Serial{Percent: 100}, str: "100%", batchOf: 7},
		{in: "1%", want: Serial{Percent: 1}, str: "1%", batchOf: 1},
		{in: "0", wantErr: true},
		{in: "0%", wantErr: true},
		{in: "101%", wantErr: true},
		{in: "-2", wantErr: true},
		{in: "two", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseSerial(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSerial(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got.String() != tt.str || got.BatchSize(7) != tt.batchOf {
			t.Errorf("%q: String %q, BatchSize(7) %d; want %q, %d", tt.in, got.String(), got.BatchSize(7), tt.str, tt.batchOf)
		}
	}
	if (Serial{}).BatchSize(7) != 7 || (Serial{}).BatchSize(0) != 1 || !(Serial{}).IsZero() {
		t.Error("the zero Serial must be one batch of all hosts")
	}
}
