package finding

import (
	"encoding/json"
	"testing"
)

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		in      string
		want    Severity
		wantErr bool
	}{
		{"critical", SeverityCritical, false},
		{"CRITICAL", SeverityCritical, false},
		{" High ", SeverityHigh, false},
		{"medium", SeverityMedium, false},
		{"moderate", SeverityMedium, false},
		{"low", SeverityLow, false},
		{"info", SeverityInfo, false},
		{"informational", SeverityInfo, false},
		{"none", SeverityInfo, false},
		{"unknown", SeverityUnknown, false},
		{"", SeverityUnknown, false},
		{"urgent", SeverityUnknown, true},
		{"9.8", SeverityUnknown, true},
		{"crit", SeverityUnknown, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSeverity(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSeverity(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseSeverity(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSeverityOrder(t *testing.T) {
	all := Severities()
	if len(all) != 6 {
		t.Fatalf("Severities() has %d entries, want 6", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1] <= all[i] {
			t.Errorf("Severities() not strictly decreasing at %d: %v then %v", i, all[i-1], all[i])
		}
	}
	// The zero value is unknown and ranks below info: an unrated finding must
	// not hide a rated one, nor pass a "fail on info" gate unnoticed.
	var zero Severity
	if zero != SeverityUnknown || !(SeverityUnknown < SeverityInfo) || !(SeverityHigh < SeverityCritical) {
		t.Error("severity order broken")
	}
}

func TestSeverityTextRoundTrip(t *testing.T) {
	for _, s := range Severities() {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", s, err)
		}
		if want := `"` + s.String() + `"`; string(b) != want {
			t.Errorf("Marshal(%v) = %s, want %s", s, b, want)
		}
		var got Severity
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", b, got, err, s)
		}
	}
	if _, err := json.Marshal(Severity(42)); err == nil {
		t.Error("Marshal(Severity(42)) succeeded, want error")
	}
	if got := Severity(-1).String(); got != "severity(-1)" {
		t.Errorf("Severity(-1).String() = %q", got)
	}
	var s Severity
	if err := json.Unmarshal([]byte(`"urgent"`), &s); err == nil {
		t.Error(`Unmarshal("urgent") succeeded, want error`)
	}
}

func FuzzParseSeverity(f *testing.F) {
	for _, s := range []string{"critical", "High", " moderate ", "", "none", "x", "\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSeverity(in)
		if err != nil {
			if s != SeverityUnknown {
				t.Errorf("ParseSeverity(%q) = %v with error, want unknown", in, s)
			}
			return
		}
		if !s.valid() {
			t.Fatalf("ParseSeverity(%q) = invalid %d", in, int(s))
		}
		again, err := ParseSeverity(s.String())
		if err != nil || again != s {
			t.Errorf("ParseSeverity(%q) = %v does not round-trip: %v, %v", in, s, again, err)
		}
	})
}
