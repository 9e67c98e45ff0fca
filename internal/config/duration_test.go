package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    Duration
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "-0", want: 0},
		{in: "7d", want: 7 * Day},
		{in: "2w", want: 2 * Week},
		{in: "12h", want: Duration(12 * time.Hour)},
		{in: "1d12h", want: Duration(36 * time.Hour)},
		{in: "1.5d", want: Duration(36 * time.Hour)},
		{in: "90s", want: Duration(90 * time.Second)},
		{in: "1h30m0s", want: Duration(90 * time.Minute)},
		{in: "250ms", want: Duration(250 * time.Millisecond)},
		{in: "3µs", want: Duration(3 * time.Microsecond)},
		{in: "-7d", want: -7 * Day},
		{in: "+1h", want: Duration(time.Hour)},
		{in: "", wantErr: `empty duration (want e.g. 7d, 12h or 30m; units w, d, h, m, s, ms, us, ns)`},
		{in: "7", wantErr: `cannot parse "7" as a duration: missing unit after 7 (want e.g. 7d, 12h or 30m; units w, d, h, m, s, ms, us, ns)`},
		{in: "7x", wantErr: `cannot parse "7x" as a duration: unknown unit "x" (want e.g. 7d, 12h or 30m; units w, d, h, m, s, ms, us, ns)`},
		{in: "d", wantErr: `cannot parse "d" as a duration (want e.g. 7d, 12h or 30m; units w, d, h, m, s, ms, us, ns)`},
		{in: "-", wantErr: `cannot parse "-" as a duration (want e.g. 7d, 12h or 30m; units w, d, h, m, s, ms, us, ns)`},
		{in: "7 d", wantErr: `cannot parse "7 d" as a duration: unknown unit " d" (want e.g. 7d, 12h or 30m; units w, d, h, m, s, ms, us, ns)`},
		{in: "1.2.3d", wantErr: `cannot parse "1.2.3d" as a duration (want e.g. 7d, 12h or 30m; units w, d, h, m, s, ms, us, ns)`},
		{in: ".d", wantErr: `cannot parse ".d" as a duration (want e.g. 7d, 12h or 30m; units w, d, h, m, s, ms, us, ns)`},
		{in: ".5d", want: 12 * Duration(time.Hour)},
		{in: "200000w", wantErr: `duration "200000w" is too long`},
		{in: "106751d106751d", wantErr: `duration "106751d106751d" is too long`},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseDuration(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   Duration
		want string
	}{
		{0, "0s"},
		{7 * Day, "7d"},
		{-2 * Day, "-2d"},
		{Duration(36 * time.Hour), "36h0m0s"},
		{Duration(20 * time.Second), "20s"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Duration(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		back, err := ParseDuration(tt.in.String())
		if err != nil || back != tt.in {
			t.Errorf("ParseDuration(%q) = %v, %v, want %v", tt.in.String(), back, err, tt.in)
		}
		var u Duration
		text, _ := tt.in.MarshalText()
		if err := u.UnmarshalText(text); err != nil || u != tt.in {
			t.Errorf("text round trip of %v = %v, %v", tt.in, u, err)
		}
	}
}
