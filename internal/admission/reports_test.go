package admission

import (
	"sync"
	"testing"

	"github.com/palisade-sec/palisade/internal/policy"
	"github.com/palisade-sec/palisade/internal/policyreport"
)

type recorded struct {
	mu sync.Mutex
	rs []policyreport.Result
}

func (r *recorded) Record(x policyreport.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rs = append(r.rs, x)
}

// TestReportsWarnAndAudit checks what reaches PolicyReports: warn and audit
// violations of admitted objects, never enforce denials or dry runs.
func TestReportsWarnAndAudit(t *testing.T) {
	tests := []struct {
		mode       policy.Mode
		dryRun     bool
		wantStatus string // "" means nothing recorded
	}{
		{policy.Mode(Audit), false, policyreport.Fail},
		{policy.Mode(Warn), false, policyreport.Warn},
		{policy.Mode(Enforce), false, ""},
		{policy.Mode(Audit), true, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			rec := &recorded{}
			e := celEngine(t, tt.mode, []string{"lp/no-privileged"}, nil)
			e.Reports = rec
			ar := review(t, "shop", "Deployment", privilegedDeployment())
			ar.DryRun = &tt.dryRun
			e.Review(t.Context(), ar)
			if tt.wantStatus == "" {
				if len(rec.rs) != 0 {
					t.Fatalf("recorded %+v, want nothing", rec.rs)
				}
				return
			}
			if len(rec.rs) == 0 {
				t.Fatal("nothing recorded")
			}
			r := rec.rs[0]
			if r.Status != tt.wantStatus || r.Policy != "lp/no-privileged" || r.Resource.Kind != "Deployment" ||
				r.Resource.Namespace != "shop" || r.Resource.Name != "web" || r.Properties["mode"] != string(tt.mode) {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}
