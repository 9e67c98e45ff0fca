package cloudwatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/connect"
	"github.com/palisade-sec/palisade/internal/audit/connect/cloudwatch"
	"github.com/palisade-sec/palisade/internal/sharedtest"
)

const sample = "../../../../../shared/audit-samples/envelopes/eks/elastic-integrations__test-eks-audit-arn.log"

type logEvent struct {
	Stream  string `json:"logStreamName"`
	TS      int64  `json:"timestamp"`
	ID      string `json:"eventId"`
	Message string `json:"message"`
}

// fakeLogs speaks the CloudWatch Logs JSON 1.1 protocol for FilterLogEvents:
// events sorted by time, pageSize per page, a token that is the offset.
type fakeLogs struct {
	t        *testing.T
	mu       sync.Mutex
	events   []logEvent
	pageSize int
	throttle int // answer this many next requests with ThrottlingException
	starts   []int64
	calls    int
}

func (f *fakeLogs) add(evs ...logEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, evs...)
	sort.SliceStable(f.events, func(i, j int) bool { return f.events[i].TS < f.events[j].TS })
}

func (f *fakeLogs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if got := r.Header.Get("X-Amz-Target"); got != "Logs_20140328.FilterLogEvents" {
		http.Error(w, "unexpected target "+got, http.StatusBadRequest)
		return
	}
	if !strings.Contains(r.Header.Get("Authorization"), "Credential=AKIDTEST/") {
		http.Error(w, `{"__type":"UnrecognizedClientException","message":"bad credentials"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if f.throttle > 0 {
		f.throttle--
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
		return
	}
	var in struct {
		LogGroupName        string `json:"logGroupName"`
		LogStreamNamePrefix string `json:"logStreamNamePrefix"`
		StartTime           int64  `json:"startTime"`
		NextToken           string `json:"nextToken"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if in.LogGroupName != "/aws/eks/prod/cluster" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"ResourceNotFoundException","message":"no such group"}`)
		return
	}
	if in.NextToken == "" {
		f.starts = append(f.starts, in.StartTime)
	}
	var match []logEvent
	for _, e := range f.events {
		if e.TS >= in.StartTime && strings.HasPrefix(e.Stream, in.LogStreamNamePrefix) {
			match = append(match, e)
		}
	}
	off, _ := strconv.Atoi(in.NextToken)
	end := min(off+f.pageSize, len(match))
	out := map[string]any{"events": match[off:end], "searchedLogStreams": []any{}}
	if end < len(match) {
		out["nextToken"] = strconv.Itoa(end)
	}
	json.NewEncoder(w).Encode(out)
}

func (f *fakeLogs) snapshot() (calls int, starts []int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, slices.Clone(f.starts)
}

// sampleEvents returns n audit events built from the real EKS sample, each
// with its own auditID, in streams a and b alternately.
func sampleEvents(t *testing.T, from, n int) []logEvent {
	t.Helper()
	raw, err := os.ReadFile(sample)
	if err != nil {
		sharedtest.Missing(t, "EKS audit sample not available: %v", err)
	}
	var out []logEvent
	for i := from; i < from+n; i++ {
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		ev["auditID"] = fmt.Sprintf("arn-log-group-%d", i)
		msg, _ := json.Marshal(ev)
		stream := "kube-apiserver-audit-" + string(rune('a'+i%2))
		out = append(out, logEvent{Stream: stream, TS: 1_790_000_000_000 + int64(i)*1000, ID: fmt.Sprintf("%056d", i+1), Message: string(msg)})
	}
	return out
}

// collector is a PublishFunc that records what it was given and can fail.
type collector struct {
	mu    sync.Mutex
	ids   []string
	data  [][]byte
	fail  int
	want  int
	done  chan struct{}
	close sync.Once
}

func newCollector(want int) *collector { return &collector{want: want, done: make(chan struct{})} }

func (c *collector) publish(_ context.Context, cluster string, recs []connect.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cluster != "prod" {
		return fmt.Errorf("cluster %q", cluster)
	}
	if c.fail > 0 {
		c.fail--
		return errors.New("bus unavailable")
	}
	for _, r := range recs {
		c.ids = append(c.ids, r.ID)
		c.data = append(c.data, r.Data)
	}
	if len(c.ids) >= c.want {
		c.close.Do(func() { close(c.done) })
	}
	return nil
}

func (c *collector) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids)
}

// run runs a connector against srv until c has its records, then stops it.
func run(t *testing.T, srv *httptest.Server, checkpoint string, c *collector) {
	t.Helper()
	client, err := cloudwatch.NewClient(t.Context(), cloudwatch.ClientOptions{
		Region: "eu-west-1", Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		MaxAttempts: 5, MaxBackoff: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := cloudwatch.New(client, cloudwatch.Options{
		Cluster: "prod", Checkpoint: checkpoint, PollInterval: 10 * time.Millisecond,
		Since: 100 * 365 * 24 * time.Hour, Backoff: connect.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- conn.Run(ctx, c.publish) }()
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Errorf("timed out with %d of %d records", len(c.got()), c.want)
	}
	// One more poll proves nothing beyond want arrives.
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func ids(evs []logEvent) []string {
	var out []string
	for _, e := range evs {
		var k struct{ AuditID, Stage string }
		json.Unmarshal([]byte(e.Message), &k)
		out = append(out, k.AuditID+"/"+k.Stage)
	}
	return out
}

func TestPagingAndResume(t *testing.T) {
	t.Parallel()
	first := sampleEvents(t, 0, 5)
	fake := &fakeLogs{t: t, pageSize: 2}
	fake.add(first...)
	fake.add(logEvent{Stream: "kube-scheduler-x", TS: 1_790_000_000_500, ID: fmt.Sprintf("%056d", 99), Message: "I0902 scheduler"})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cpPath := filepath.Join(t.TempDir(), "cw.json")

	c1 := newCollector(5)
	run(t, srv, cpPath, c1)
	if diff := cmp.Diff(ids(first), c1.got()); diff != "" {
		t.Errorf("first run (-want +got):\n%s", diff)
	}
	calls, starts := fake.snapshot()
	if calls < 3 {
		t.Errorf("5 events in pages of 2 took %d calls, want at least 3", calls)
	}
	if starts[0] != 0 && starts[0] > first[0].TS {
		t.Errorf("first poll started at %d, after the first event %d", starts[0], first[0].TS)
	}

	// The records decode as EKS events of the cluster.
	for i, d := range c1.data {
		var got []*audit.Event
		if _, err := audit.Decode(t.Context(), bytes.NewReader(d), audit.Source{Cluster: "prod"}, nil, func(e *audit.Event) error { got = append(got, e); return nil }); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if len(got) != 1 || got[0].Provider != audit.ProviderEKS || got[0].Cluster != "prod" || got[0].AuditID != fmt.Sprintf("arn-log-group-%d", i) {
			t.Errorf("record %d decoded to %+v", i, got)
		}
	}

	var cp cloudwatch.Checkpoint
	if err := connect.LoadJSON(cpPath, &cp); err != nil {
		t.Fatal(err)
	}
	wantCP := map[string]cloudwatch.Position{
		"kube-apiserver-audit-a": {Timestamp: first[4].TS, EventID: first[4].ID},
		"kube-apiserver-audit-b": {Timestamp: first[3].TS, EventID: first[3].ID},
	}
	if diff := cmp.Diff(wantCP, cp.Streams); diff != "" {
		t.Errorf("checkpoint (-want +got):\n%s", diff)
	}

	// A restart resumes: only the new events, none of the old.
	more := sampleEvents(t, 5, 2)
	fake.add(more...)
	c2 := newCollector(2)
	run(t, srv, cpPath, c2)
	if diff := cmp.Diff(ids(more), c2.got()); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
	_, starts = fake.snapshot()
	if s := starts[len(starts)-1]; s != first[3].TS && s < first[3].TS {
		t.Errorf("resumed poll started at %d, before the oldest stream position %d", s, first[3].TS)
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	t.Parallel()
	evs := sampleEvents(t, 0, 3)
	fake := &fakeLogs{t: t, pageSize: 10, throttle: 3}
	fake.add(evs...)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := newCollector(3)
	run(t, srv, filepath.Join(t.TempDir(), "cw.json"), c)
	if diff := cmp.Diff(ids(evs), c.got()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if calls, _ := fake.snapshot(); calls < 4 {
		t.Errorf("3 throttled answers then data took %d calls, want at least 4", calls)
	}
}

func TestPublishFailureHoldsCheckpoint(t *testing.T) {
	t.Parallel()
	evs := sampleEvents(t, 0, 2)
	fake := &fakeLogs{t: t, pageSize: 10}
	fake.add(evs...)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := newCollector(2)
	c.fail = 2
	run(t, srv, filepath.Join(t.TempDir(), "cw.json"), c)
	// Not lost and not doubled: the page is retried until the bus takes it.
	if diff := cmp.Diff(ids(evs), c.got()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCheckpointOfAnotherLogGroup(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cw.json")
	if err := connect.SaveJSON(path, cloudwatch.Checkpoint{LogGroup: "/aws/eks/other/cluster"}); err != nil {
		t.Fatal(err)
	}
	conn, err := cloudwatch.New(noAPI{}, cloudwatch.Options{Cluster: "prod", Checkpoint: path})
	if err != nil {
		t.Fatal(err)
	}
	err = conn.Run(t.Context(), newCollector(1).publish)
	if err == nil || !strings.Contains(err.Error(), "/aws/eks/other/cluster") {
		t.Errorf("Run = %v, want an error naming the other log group", err)
	}
}

type noAPI struct{ cloudwatch.API }
