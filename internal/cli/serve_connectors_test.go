package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/sharedtest"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// TestServeCloudWatchConnector runs `palisade serve` with a cloudwatch
// connector against a server speaking the CloudWatch Logs protocol, and
// expects the real EKS sample event in the store under the cluster's name,
// with credentials from the AWS SDK's default chain (here: the environment)
// and never in the logs.
func TestServeCloudWatchConnector(t *testing.T) {
	msg, err := os.ReadFile("../../../shared/audit-samples/envelopes/eks/elastic-integrations__test-eks-audit-arn.log")
	if err != nil {
		sharedtest.Missing(t, "EKS audit sample not available: %v", err)
	}
	var signed atomic.Bool
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ LogGroupName, LogStreamNamePrefix string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Header.Get("X-Amz-Target") != "Logs_20140328.FilterLogEvents" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if strings.Contains(r.Header.Get("Authorization"), "Credential=AKIDE2E/") {
			signed.Store(true)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if in.LogGroupName != "/aws/eks/eks-e2e/cluster" || in.LogStreamNamePrefix != "kube-apiserver-audit-" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"ResourceNotFoundException","message":"no such log group"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"events": []map[string]any{{
			"logStreamName": "kube-apiserver-audit-0a1b", "timestamp": 1_788_350_401_000,
			"eventId": fmt.Sprintf("%056d", 1), "message": string(msg),
		}}})
	}))
	defer fake.Close()

	data := t.TempDir()
	t.Setenv("PALISADE_DATA_DIR", data)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDE2E")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "e2e-secret-never-logged")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(data, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(data, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfgPath := filepath.Join(data, "palisade.yaml")
	// The sample is a real event of 2026-09: kept whatever today's date,
	// or retention (30 days by default) may delete it before it is read.
	cfgYAML := fmt.Sprintf("audit:\n  retention: {events: 0}\n  connectors:\n  - {type: cloudwatch, cluster: eks-e2e, region: us-east-1, endpoint: %q, pollInterval: 1s}\n", fake.URL)
	if err := os.WriteFile(cfgPath, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(data, "p.db")

	var stdout, stderr syncBuffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv, Now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--plain-http", "--config", cfgPath, "--store", dbPath, "--log-level", "info"}, env)
	}()

	checkpoint := filepath.Join(data, "audit-connectors", "cloudwatch-eks-e2e.json")
	var evs []store.AuditEvent
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d:\n%s", code, stderr.String())
		default:
		}
		if _, err := os.Stat(checkpoint); err != nil {
			continue
		}
		if evs = storedEvents(t, dbPath); len(evs) > 0 {
			break
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("serve exited %d:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if len(evs) != 1 || evs[0].Cluster != "eks-e2e" || evs[0].AuditID != "arn-log-group" {
		t.Fatalf("stored events = %+v, want the sample under eks-e2e\n%s", evs, stderr.String())
	}
	if !signed.Load() {
		t.Error("no request was signed with the environment's access key")
	}
	logs := stderr.String()
	if !strings.Contains(logs, "cloudwatch/eks-e2e") {
		t.Errorf("no log line names the connector:\n%s", logs)
	}
	if strings.Contains(logs, "e2e-secret-never-logged") {
		t.Error("the AWS secret key appears in the logs")
	}
}

func storedEvents(t *testing.T, dbPath string) []store.AuditEvent {
	t.Helper()
	st, err := sqlite.Open(t.Context(), dbPath, nil)
	if err != nil {
		return nil // not created yet
	}
	defer st.Close()
	evs, _ := st.QueryAuditEvents(t.Context(), store.AuditQuery{Cluster: "eks-e2e"})
	return evs
}

func TestBuildConnectorsErrors(t *testing.T) {
	t.Setenv("PALISADE_DATA_DIR", t.TempDir())
	cfg := config.Default()
	cfg.Audit.Connectors = []config.AuditConnector{{Type: config.ConnectorEventHubs, Cluster: "aks", EventHub: "h", ConnectionStringEnv: "EH_CONN"}}
	_, _, err := buildConnectors(t.Context(), cfg, func(string) string { return "" }, nil)
	if err == nil || !strings.Contains(err.Error(), "audit.connectors[0] (eventhubs/aks): environment variable EH_CONN is empty") {
		t.Errorf("err = %v", err)
	}
	cfg.Audit.Connectors[0].ConnectionStringEnv = ""
	cfg.Audit.Connectors[0].Namespace = "acme.servicebus.windows.net"
	cfg.Audit.Connectors = append(cfg.Audit.Connectors, config.AuditConnector{Type: config.ConnectorPubSub, Cluster: "gke", Project: "p", Subscription: "s"})
	conns, closeAll, err := buildConnectors(t.Context(), cfg, os.Getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	var names []string
	for _, c := range conns {
		names = append(names, c.Name())
	}
	if got := strings.Join(names, ","); got != "eventhubs/aks,pubsub/gke" {
		t.Errorf("connectors = %s", got)
	}
}
