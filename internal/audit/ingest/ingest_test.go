package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/audit/audittest"
	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/store"
)

// anonBinding is a real-shaped audit event: cluster-admin granted to
// system:anonymous, recorded at RequestResponse level.
const anonBinding = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"0b1c2d3e-0000-4000-8000-000000000001","stage":"ResponseComplete",
"requestURI":"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings","verb":"create",
"user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["203.0.113.7"],"userAgent":"kubectl/v1.37.2",
"objectRef":{"resource":"clusterrolebindings","name":"anon-admin","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},
"responseStatus":{"metadata":{},"code":201},
"requestObject":{"kind":"ClusterRoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"anon-admin"},
 "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"system:anonymous"}],
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"}},
"requestReceivedTimestamp":"2026-11-25T10:00:00.000000Z","stageTimestamp":"2026-11-25T10:00:00.010000Z",
"annotations":{"authorization.k8s.io/decision":"allow"}}`

const benign = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"0b1c2d3e-0000-4000-8000-000000000002","stage":"ResponseComplete",
"requestURI":"/api/v1/namespaces/shop/pods","verb":"list","user":{"username":"alice","groups":["system:authenticated"]},
"objectRef":{"resource":"pods","namespace":"shop","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},
"requestReceivedTimestamp":"2026-11-25T10:00:01.000000Z","stageTimestamp":"2026-11-25T10:00:01.010000Z"}`

func TestReceiverToStore(t *testing.T) {
	ctx := t.Context()
	b, st := audittest.Stack(t)
	engine := audittest.Engine(t)
	rc, err := receiver.New(receiver.Options{Publisher: b, Authenticate: func(*http.Request) (string, bool) { return "prod", true }})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + anonBinding + `,` + benign + `]}`
	for range 2 { // a retried batch changes nothing
		rec := httptest.NewRecorder()
		rc.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, receiver.Path, strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			t.Fatalf("receiver: %d %s", rec.Code, rec.Body)
		}
	}

	p := &Pipeline{Bus: b, Store: st, Engine: engine}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	// Wait for the outcome itself: a new consumer's pending count can read
	// 0 before its first delivery, so it is no signal of completion.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		evs, _ := st.QueryAuditEvents(ctx, store.AuditQuery{Cluster: "prod"})
		if n, err := b.Pending(ctx, Consumer); len(evs) == 2 && err == nil && n == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	evs, err := st.QueryAuditEvents(ctx, store.AuditQuery{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d audit events stored, want 2", len(evs))
	}
	alerts, err := st.ListAlerts(ctx, store.AlertFilter{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var rulesFired []string
	for _, a := range alerts {
		rulesFired = append(rulesFired, a.RuleID)
	}
	joined := strings.Join(rulesFired, ",")
	if !strings.Contains(joined, "binding-to-unauthenticated") || !strings.Contains(joined, "cluster-admin-binding") {
		t.Errorf("alerts = %v, want binding-to-unauthenticated and cluster-admin-binding", rulesFired)
	}
	for _, a := range alerts {
		if len(a.EvidenceAuditIDs) == 0 || a.EvidenceAuditIDs[0] != "0b1c2d3e-0000-4000-8000-000000000001" {
			t.Errorf("alert %s evidence = %v", a.RuleID, a.EvidenceAuditIDs)
		}
	}
}
