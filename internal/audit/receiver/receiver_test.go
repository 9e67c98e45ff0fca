package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/bus"
)

func openBus(t *testing.T) *bus.Bus {
	t.Helper()
	b, err := bus.Open(t.Context(), bus.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func tokenAuth(r *http.Request) (string, bool) {
	if r.Header.Get("Authorization") == "Bearer prod-token" {
		return "prod.eu", true
	}
	return "", false
}

func testBatch(n int, prefix string) string {
	var items []string
	for i := range n {
		items = append(items, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s-%d","stage":"ResponseComplete","verb":"get","user":{"username":"alice"}}`, prefix, i))
	}
	return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + strings.Join(items, ",") + `]}`
}

func post(h http.Handler, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// drain consumes the audit subjects until want records arrived.
func drain(t *testing.T, b *bus.Bus, durable string, want int) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []Record
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, durable, SubjectPrefix+">", func(_ context.Context, m bus.Message) error {
			var r Record
			if err := json.Unmarshal(m.Data, &r); err != nil {
				return err
			}
			mu.Lock()
			got = append(got, r)
			if len(got) >= want {
				cancel()
			}
			mu.Unlock()
			return nil
		})
	}()
	<-done
	mu.Lock()
	defer mu.Unlock()
	return got
}

func TestReceiverStoresBatchesDurablyOnce(t *testing.T) {
	b := openBus(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	rc, err := New(Options{Publisher: b, Authenticate: tokenAuth, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	body := testBatch(50, "a")
	if rec := post(rc, "prod-token", body); rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	// The API server retries a batch whose answer it did not get: the
	// retry must not duplicate events.
	if rec := post(rc, "prod-token", body); rec.Code != http.StatusOK {
		t.Fatalf("retry status %d", rec.Code)
	}
	got := drain(t, b, "test", 50)
	if len(got) != 50 {
		t.Fatalf("%d records on the bus, want 50", len(got))
	}
	r := got[0]
	if r.Cluster != "prod.eu" || r.Source != "webhook" || !r.ReceivedAt.Equal(now) || !strings.Contains(string(r.Event), `"auditID":"a-0"`) {
		t.Errorf("first record = %+v", r)
	}
	if n, err := b.Pending(t.Context(), "test"); err != nil || n != 0 {
		t.Errorf("pending after retry = %d, %v; want 0 (duplicates stored)", n, err)
	}
}

func TestReceiverRefusals(t *testing.T) {
	b := openBus(t)
	rc, err := New(Options{Publisher: b, Authenticate: tokenAuth, MaxBatchBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, body string
		want              int
	}{
		{"no credentials", "", testBatch(1, "x"), http.StatusUnauthorized},
		{"wrong token", "other", testBatch(1, "x"), http.StatusUnauthorized},
		{"truncated JSON", "prod-token", testBatch(2, "x")[:60], http.StatusBadRequest},
		{"not an EventList", "prod-token", `{"kind":"Pod","apiVersion":"v1"}`, http.StatusBadRequest},
		{"event without auditID", "prod-token", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"stage":"ResponseComplete"}]}`, http.StatusBadRequest},
		{"too large", "prod-token", testBatch(100, "x"), http.StatusRequestEntityTooLarge},
		{"empty batch", "prod-token", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := post(rc, tt.token, tt.body); rec.Code != tt.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
	req := httptest.NewRequest(http.MethodGet, Path, nil)
	rec := httptest.NewRecorder()
	rc.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET status %d", rec.Code)
	}
}

// TestReceiverBusDown closes the bus: the batch cannot be made durable, so
// the answer must be a retryable 503, never 200.
func TestReceiverBusDown(t *testing.T) {
	b, err := bus.Open(t.Context(), bus.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := New(Options{Publisher: b, Authenticate: tokenAuth, PublishWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	rec := post(rc, "prod-token", testBatch(3, "y"))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d (Retry-After %q), want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// blockingPublisher holds batches until released, to fill the in-flight
// slots; durability itself is tested against the real bus above.
type blockingPublisher struct{ release chan struct{} }

func (p blockingPublisher) PublishBatch(ctx context.Context, _ []bus.Message) error {
	select {
	case <-p.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestReceiverBackPressure(t *testing.T) {
	p := blockingPublisher{release: make(chan struct{})}
	rc, err := New(Options{Publisher: p, Authenticate: tokenAuth, MaxInFlight: 1})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan int, 1)
	go func() { first <- post(rc, "prod-token", testBatch(1, "p")).Code }()
	deadline := time.Now().Add(5 * time.Second)
	for len(rc.slots) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	rec := post(rc, "prod-token", testBatch(1, "q"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("second batch while full: status %d, want 429 with Retry-After", rec.Code)
	}
	close(p.release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("first batch: %d", code)
	}
}

func TestSubjectToken(t *testing.T) {
	for in, want := range map[string]string{"prod": "prod", "prod.eu": "prod_eu", "a b*>": "a_b__", "": "_"} {
		if got := SubjectToken(in); got != want {
			t.Errorf("SubjectToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzReceiverBody(f *testing.F) {
	f.Add(testBatch(2, "f"))
	f.Add(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[null]}`)
	f.Add(`{"items":[1,2,3]}`)
	rc, err := New(Options{Publisher: blockingPublisher{release: closed()}, Authenticate: tokenAuth})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		rec := post(rc, "prod-token", body)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
