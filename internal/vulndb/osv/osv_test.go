package osv

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	doc := `{"schema_version":"1.3.1","id":"GO-2022-1059","modified":"0001-01-01T00:00:00Z","published":"2022-10-11T17:58:23Z",
"aliases":["CVE-2022-32149","GHSA-69ch-w2m2-3vjp"],"summary":"Denial of service",
"affected":[{"package":{"name":"golang.org/x/text","ecosystem":"Go"},
"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.3.8"}]}],
"database_specific":{"severity":"HIGH"}}],
"references":[{"type":"FIX","url":"https://go.dev/cl/442235"}],"unknown_field":1}`
	v, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"GO-2022-1059", "CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"}
	if diff := cmp.Diff(want, v.IDs()); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
	if got := v.Time(); !got.Equal(time.Date(2022, 10, 11, 17, 58, 23, 0, time.UTC)) {
		t.Errorf("Time() = %v, want published", got)
	}
	if got := v.DatabaseSeverity(&v.Affected[0]); got != "HIGH" {
		t.Errorf("DatabaseSeverity = %q", got)
	}
	if e := v.Affected[0].Ranges[0].Events; e[1].Fixed != "0.3.8" {
		t.Errorf("events = %+v", e)
	}
}

func TestParseInvalid(t *testing.T) {
	tests := map[string]string{
		"not json":          `{`,
		"no id":             `{"affected":[]}`,
		"trailing":          `{"id":"X"} {"id":"Y"}`,
		"no package":        `{"id":"X","affected":[{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`,
		"two event fields":  `{"id":"X","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}`,
		"empty event":       `{"id":"X","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{}]}]}]}`,
		"no events":         `{"id":"X","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[]}]}]}`,
		"bad time":          `{"id":"X","modified":"yesterday"}`,
		"aliases not array": `{"id":"X","aliases":"CVE-1"}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(doc)); !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%s) error = %v, want ErrInvalid", doc, err)
			}
		})
	}
	// A GIT-only entry needs no package.
	if _, err := Parse([]byte(`{"id":"X","affected":[{"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"abc"}]}]}]}`)); err != nil {
		t.Errorf("GIT-only affected: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"id":"GO-1","aliases":["CVE-1"],"affected":[{"package":{"name":"m","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}],"versions":["0.1"]}],"database_specific":{"severity":"HIGH"}}`))
	f.Add([]byte(`{"id":"X","modified":"2020-01-01T00:00:00.123Z","withdrawn":"2021-01-01T00:00:00Z","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if v.ID == "" || len(v.IDs()) == 0 {
			t.Fatal("valid document without ID")
		}
		for i := range v.Affected {
			_ = v.DatabaseSeverity(&v.Affected[i])
		}
		_ = v.Time()
	})
}
