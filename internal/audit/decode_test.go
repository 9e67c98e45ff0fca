package audit

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/sharedtest"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const envelopes = "../../../shared/audit-samples/envelopes"

var ingest = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return ingest }

// eksEvent is the real EKS audit event of the Elastic EKS sample.
func eksEvent(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(envelopes, "eks/elastic-integrations__test-eks-audit-arn.log"))
	if err != nil {
		sharedtest.Missing(t, "samples not available: %v", err)
	}
	return bytes.TrimSpace(b)
}

func gzipB64(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// cloudWatchRecord wraps events in a CloudWatch Logs subscription record
// with the log group and stream EKS uses (shapes from the Dynatrace and
// Elastic samples, see the envelopes README).
func cloudWatchRecord(t *testing.T, stream string, events ...[]byte) []byte {
	t.Helper()
	type le struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	rec := map[string]any{"messageType": "DATA_MESSAGE", "owner": "123456789012",
		"logGroup": "/aws/eks/prod-1/cluster", "logStream": stream, "subscriptionFilters": []string{"palisade"}}
	var les []le
	for i, e := range events {
		les = append(les, le{ID: strings.Repeat("3", 55) + string(rune('0'+i)), Timestamp: 1788350400000, Message: string(e)})
	}
	rec["logEvents"] = les
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type decodeCase struct {
	name  string
	input func(t *testing.T) []byte
}

func file(rel string) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		b, err := os.ReadFile(filepath.Join(envelopes, rel))
		if err != nil {
			sharedtest.Missing(t, "samples not available: %v", err)
		}
		return b
	}
}

func decodeCases() []decodeCase {
	return []decodeCase{
		{"aks-dynatrace-record", file("aks/dynatrace-azure-log-forwarder__kube_audit_record.fragment.json")},
		{"aks-elastic-record", file("aks/elastic-integrations__test-platformlogs-kube.log")},
		{"aks-eventhub-body", func(t *testing.T) []byte {
			rec := file("aks/dynatrace-azure-log-forwarder__kube_audit_record.fragment.json")(t)
			return []byte(`{"records":[` + string(rec) + `,{"category":"kube-apiserver","properties":{"log":"I1125 started"}}]}`)
		}},
		{"gke-logentry", file("gke/elastic-integrations__test-k8s-nonmatching-resourcename.log")},
		{"gke-pubsub-push-no-auditlog", file("gke/grafana-loki__push_target_test.testPayload.fragment.json")},
		{"eks-firehose-other-loggroup", file("eks/dynatrace-aws-log-forwarder__kinesis_request.json")},
		{"eks-bare-event", file("eks/elastic-integrations__test-eks-audit-arn.log")},
		{"eks-cloudwatch-gzip", func(t *testing.T) []byte {
			raw, _ := base64.StdEncoding.DecodeString(gzipB64(t, cloudWatchRecord(t, "kube-apiserver-audit-0f1e2d", eksEvent(t))))
			return raw // a gzip'd subscription record, as S3 exports hold
		}},
		{"eks-lambda-awslogs", func(t *testing.T) []byte {
			return []byte(`{"awslogs":{"data":"` + gzipB64(t, cloudWatchRecord(t, "kube-apiserver-audit-0f1e2d", eksEvent(t))) + `"}}`)
		}},
		{"eks-firehose-audit", func(t *testing.T) []byte {
			audit := gzipB64(t, cloudWatchRecord(t, "kube-apiserver-audit-0f1e2d", eksEvent(t)))
			sched := gzipB64(t, cloudWatchRecord(t, "kube-scheduler-0f1e2d", []byte(`I1125 scheduled`)))
			return []byte(`{"invocationId":"x","region":"us-east-1","records":[{"recordId":"1","approximateArrivalTimestamp":1,"data":"` +
				audit + `"},{"recordId":"2","approximateArrivalTimestamp":1,"data":"` + sched + `"}]}`)
		}},
		{"eventlist", func(t *testing.T) []byte {
			ev := eksEvent(t)
			return []byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + string(ev) + `,` +
				strings.Replace(string(ev), `"ResponseComplete"`, `"RequestReceived"`, 1) + `]}`)
		}},
		{"eks-base64-lines", func(t *testing.T) []byte {
			rec := gzipB64(t, cloudWatchRecord(t, "kube-apiserver-audit-0f1e2d", eksEvent(t)))
			return []byte(rec + "\n" + rec + "\n")
		}},
		{"gke-pods-exec-create", func(t *testing.T) []byte {
			// The LogEntry shape of the Panther GKE samples (operation.id =
			// insertId = auditID, resourceName with subresource), in JSON.
			return []byte(`{"insertId":"6d3c2a4e-1f0b-4b8e-9d57-2e5d8d1b0c11","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity",` +
				`"operation":{"first":true,"id":"6d3c2a4e-1f0b-4b8e-9d57-2e5d8d1b0c11","last":true,"producer":"k8s.io"},` +
				`"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{"principalEmail":"mallory@example.com"},` +
				`"authorizationInfo":[{"granted":true,"permission":"io.k8s.core.v1.pods.exec.create","resource":"core/v1/namespaces/prod/pods/web-0/exec"}],` +
				`"methodName":"io.k8s.core.v1.pods.exec.create","requestMetadata":{"callerIp":"203.0.113.50","callerSuppliedUserAgent":"kubectl/v1.31.0"},` +
				`"resourceName":"core/v1/namespaces/prod/pods/web-0/exec","serviceName":"k8s.io","status":{"code":0}},` +
				`"resource":{"labels":{"cluster_name":"prod-gke","location":"europe-west1","project_id":"p"},"type":"k8s_cluster"},"timestamp":"2026-11-25T09:00:00.123456Z"}`)
		}},
		{"aks-log-as-object", func(t *testing.T) []byte {
			return []byte(`{"records":[{"category":"kube-audit-admin","resourceId":"/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-1","properties":{"log":` +
				string(eksEvent(t)) + `}}]}`)
		}},
		{"falco-trace-privileged", func(t *testing.T) []byte {
			b, err := os.ReadFile("../../../shared/audit-samples/falco/trace_files/create_nginx_pod_privileged.json")
			if err != nil {
				sharedtest.Missing(t, "Falco trace file: %v", err)
			}
			return b
		}},
	}
}

// TestDecode decodes real and envelope-wrapped samples and compares the
// normalized events (without the raw copy) and stats with goldens.
func TestDecode(t *testing.T) {
	for _, c := range decodeCases() {
		t.Run(c.name, func(t *testing.T) {
			var got []*Event
			st, err := Decode(t.Context(), bytes.NewReader(c.input(t)), Source{Name: c.name}, fixedNow, func(e *Event) error {
				got = append(got, e)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			type out struct {
				Events  []map[string]any
				Count   int
				Skipped int
				Errors  []string
			}
			o := out{Count: st.Events, Skipped: st.Skipped}
			for _, e := range st.Errors {
				o.Errors = append(o.Errors, e.Error())
			}
			for _, e := range got {
				b, _ := json.Marshal(e)
				var m map[string]any
				json.Unmarshal(b, &m)
				delete(m, "raw")
				o.Events = append(o.Events, m)
			}
			b, err := json.MarshalIndent(o, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "decode", c.name+".golden"), b)
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestGoldensNotOrphaned fails on golden files no case writes.
func TestGoldensNotOrphaned(t *testing.T) {
	names := map[string]bool{}
	for _, c := range decodeCases() {
		names[c.name+".golden"] = true
	}
	files, _ := filepath.Glob("testdata/decode/*.golden")
	for _, f := range files {
		if !names[filepath.Base(f)] {
			t.Errorf("orphaned golden file %s", f)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, input string
		events      int
		errs        []string
		fatal       string
	}{
		{"bad line keeps going", `{"kind":"Event","auditID":"a","stage":"ResponseComplete","verb":"get"}` + "\nnot json\n" +
			`{"kind":"Event","auditID":"b","stage":"ResponseComplete","verb":"get"}`, 2, []string{"t:2: decode JSON record"}, ""},
		{"unknown record", `{"foo":1}`, 0, []string{"t:1: unrecognized record"}, ""},
		{"truncated document", "{\n\"kind\": \"EventList\",\n\"items\": [", 0, nil, "decode t at byte"},
		{"aks without log", `{"category":"kube-audit","properties":{}}`, 0, []string{"no properties.log"}, ""},
		{"bad base64", `{"awslogs":{"data":"!!"}}`, 0, []string{"decode base64"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			st, err := Decode(t.Context(), strings.NewReader(tc.input), Source{Name: "t"}, fixedNow, func(*Event) error { n++; return nil })
			if tc.fatal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fatal) {
					t.Fatalf("err = %v, want %q", err, tc.fatal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.events {
				t.Errorf("events = %d, want %d", n, tc.events)
			}
			if len(st.Errors) != len(tc.errs) {
				t.Fatalf("errors = %v, want %v", st.Errors, tc.errs)
			}
			for i, e := range st.Errors {
				if !strings.Contains(e.Error(), tc.errs[i]) {
					t.Errorf("error %q, want it to contain %q", e, tc.errs[i])
				}
			}
		})
	}
}
