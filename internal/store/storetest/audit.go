package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/store"
)

func mkEvent(cluster, auditID, stage string, minute int) store.AuditEvent {
	return store.AuditEvent{
		AuditID:    auditID,
		Stage:      stage,
		Cluster:    cluster,
		ReceivedAt: at(minute).Add(time.Second),
		EventTime:  at(minute),
		Verb:       "get",
		User:       "alice",
		Namespace:  "default",
		Resource:   "secrets",
		Name:       "db-password",
		Raw:        []byte(fmt.Sprintf(`{"auditID":%q,"stage":%q}`, auditID, stage)),
	}
}

// eventKeys returns "cluster/auditID/stage" for each event, for short diffs.
func eventKeys(es []store.AuditEvent) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Cluster+"/"+e.AuditID+"/"+e.Stage)
	}
	return out
}

func testAudit(t *testing.T, open opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		e := mkEvent("prod", "a1", "ResponseComplete", 0)
		n, err := s.AppendAuditEvents(t.Context(), []store.AuditEvent{e})
		must(t, "AppendAuditEvents", err)
		if n != 1 {
			t.Errorf("AppendAuditEvents = %d new, want 1", n)
		}
		got, err := s.QueryAuditEvents(t.Context(), store.AuditQuery{})
		must(t, "QueryAuditEvents", err)
		if diff := cmp.Diff([]store.AuditEvent{e}, got, diffOpts); diff != "" {
			t.Errorf("QueryAuditEvents (-want +got):\n%s", diff)
		}
	})

	t.Run("AppendDedupes", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		e1, e2 := mkEvent("prod", "a1", "ResponseComplete", 0), mkEvent("prod", "a2", "ResponseComplete", 1)
		for _, tc := range []struct {
			name  string
			batch []store.AuditEvent
			want  int
		}{
			{"duplicate inside a batch", []store.AuditEvent{e1, e2, e1}, 2},
			{"retried batch", []store.AuditEvent{e1, e2}, 0},
			{"overlapping batch", []store.AuditEvent{e2, mkEvent("prod", "a3", "ResponseComplete", 2)}, 1},
			{"same ID, other stage", []store.AuditEvent{mkEvent("prod", "a1", "RequestReceived", 0)}, 1},
			{"same ID, other cluster", []store.AuditEvent{mkEvent("staging", "a1", "ResponseComplete", 0)}, 1},
			{"empty batch", nil, 0},
		} {
			n, err := s.AppendAuditEvents(ctx, tc.batch)
			must(t, tc.name, err)
			if n != tc.want {
				t.Errorf("%s: %d new, want %d", tc.name, n, tc.want)
			}
		}
		// A duplicate keeps the first copy, even when the retry differs.
		changed := e1
		changed.User = "mallory"
		_, err := s.AppendAuditEvents(ctx, []store.AuditEvent{changed})
		must(t, "append changed duplicate", err)
		got, err := s.QueryAuditEvents(ctx, store.AuditQuery{})
		must(t, "QueryAuditEvents", err)
		want := []string{"prod/a1/RequestReceived", "prod/a1/ResponseComplete", "staging/a1/ResponseComplete", "prod/a2/ResponseComplete", "prod/a3/ResponseComplete"}
		if diff := cmp.Diff(want, eventKeys(got)); diff != "" {
			t.Errorf("stored events (-want +got):\n%s", diff)
		}
		if got[1].User != "alice" {
			t.Errorf("duplicate replaced the stored event: user = %q", got[1].User)
		}
	})

	t.Run("Query", func(t *testing.T) { t.Parallel(); testAuditQuery(t, open) })

	t.Run("DeleteBefore", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		var batch []store.AuditEvent
		for i := range 5 {
			batch = append(batch, mkEvent("prod", fmt.Sprintf("a%d", i), "ResponseComplete", i))
		}
		_, err := s.AppendAuditEvents(ctx, batch)
		must(t, "AppendAuditEvents", err)
		n, err := s.DeleteAuditEventsBefore(ctx, at(2))
		must(t, "DeleteAuditEventsBefore", err)
		if n != 2 {
			t.Errorf("deleted %d, want 2", n)
		}
		n, err = s.DeleteAuditEventsBefore(ctx, at(2))
		must(t, "DeleteAuditEventsBefore again", err)
		if n != 0 {
			t.Errorf("second delete deleted %d, want 0", n)
		}
		got, err := s.QueryAuditEvents(ctx, store.AuditQuery{})
		must(t, "QueryAuditEvents", err)
		if diff := cmp.Diff([]string{"prod/a2/ResponseComplete", "prod/a3/ResponseComplete", "prod/a4/ResponseComplete"}, eventKeys(got)); diff != "" {
			t.Errorf("after delete (-want +got):\n%s", diff)
		}
	})

	t.Run("DeleteMany", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		const total = 6000 // more than one chunk of a chunked delete (SQLite: 5000)
		batch := make([]store.AuditEvent, total)
		for i := range batch {
			batch[i] = mkEvent("prod", fmt.Sprintf("bulk-%05d", i), "ResponseComplete", i%100)
			batch[i].Raw = nil
		}
		n, err := s.AppendAuditEvents(ctx, batch)
		must(t, "AppendAuditEvents", err)
		if n != total {
			t.Fatalf("appended %d, want %d", n, total)
		}
		deleted, err := s.DeleteAuditEventsBefore(ctx, at(100))
		must(t, "DeleteAuditEventsBefore", err)
		if deleted != total {
			t.Errorf("deleted %d, want %d", deleted, total)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		const (
			writers = 8
			batches = 10
			perB    = 10
			pool    = 300 // distinct audit IDs; writers overlap on them
		)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			added int
			errs  []error
		)
		for w := range writers {
			wg.Go(func() {
				for b := range batches {
					batch := make([]store.AuditEvent, perB)
					for k := range batch {
						id := (w*37 + b*perB + k) % pool
						batch[k] = mkEvent("prod", fmt.Sprintf("c-%03d", id), "ResponseComplete", id)
					}
					n, err := s.AppendAuditEvents(t.Context(), batch)
					mu.Lock()
					added += n
					if err != nil {
						errs = append(errs, fmt.Errorf("writer %d batch %d: %w", w, b, err))
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
		got, err := s.QueryAuditEvents(t.Context(), store.AuditQuery{})
		must(t, "QueryAuditEvents", err)
		distinct := map[string]bool{}
		for w := range writers {
			for b := range batches {
				for k := range perB {
					distinct[fmt.Sprint((w*37+b*perB+k)%pool)] = true
				}
			}
		}
		if added != len(distinct) || len(got) != len(distinct) {
			t.Errorf("appends reported %d new and %d are stored, want %d", added, len(got), len(distinct))
		}
	})

	t.Run("LargeRaw", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		var batch []store.AuditEvent
		for i := range 4 {
			e := mkEvent("prod", fmt.Sprintf("big-%d", i), "ResponseComplete", i)
			e.Raw = largeJSON(1 << 20)
			batch = append(batch, e)
		}
		_, err := s.AppendAuditEvents(t.Context(), batch)
		must(t, "AppendAuditEvents", err)
		got, err := s.QueryAuditEvents(t.Context(), store.AuditQuery{})
		must(t, "QueryAuditEvents", err)
		if len(got) != len(batch) {
			t.Fatalf("got %d events, want %d", len(got), len(batch))
		}
		for i := range got {
			if !bytes.Equal(got[i].Raw, batch[i].Raw) {
				t.Errorf("event %d: raw payload changed", i)
			}
		}
	})

	t.Run("InvalidBatchStoresNothing", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		good := mkEvent("prod", "ok", "ResponseComplete", 0)
		for name, bad := range map[string]store.AuditEvent{
			"no audit ID":    mkEvent("prod", "", "ResponseComplete", 0),
			"NUL in user":    func() store.AuditEvent { e := good; e.AuditID, e.User = "x", "a\x00b"; return e }(),
			"invalid UTF-8":  mkEvent("prod\xc3", "y", "ResponseComplete", 0),
			"NUL in cluster": mkEvent("\x00", "z", "ResponseComplete", 0),
		} {
			n, err := s.AppendAuditEvents(ctx, []store.AuditEvent{good, bad})
			wantErr(t, name, err, store.ErrInvalid)
			if n != 0 {
				t.Errorf("%s: %d new, want 0", name, n)
			}
		}
		for _, q := range []store.AuditQuery{{Limit: -1}, {User: "\xff"}, {AuditIDs: []string{"a", "\x00"}}} {
			_, err := s.QueryAuditEvents(ctx, q)
			wantErr(t, fmt.Sprintf("QueryAuditEvents(%+v)", q), err, store.ErrInvalid)
		}
		got, err := s.QueryAuditEvents(ctx, store.AuditQuery{})
		must(t, "QueryAuditEvents", err)
		if len(got) != 0 {
			t.Errorf("events of invalid batches were stored: %v", eventKeys(got))
		}
	})
}

func testAuditQuery(t *testing.T, open opener) {
	s := openStore(t, open)
	ctx := t.Context()
	e := func(cluster, id string, minute int, user, verb, ns string) store.AuditEvent {
		ev := mkEvent(cluster, id, "ResponseComplete", minute)
		ev.User, ev.Verb, ev.Namespace = user, verb, ns
		return ev
	}
	_, err := s.AppendAuditEvents(ctx, []store.AuditEvent{
		e("prod", "e3", 3, "bob", "delete", "kube-system"),
		e("prod", "e1", 1, "alice", "get", "default"),
		e("staging", "e2", 2, "alice", "create", "default"),
		e("prod", "e4", 4, "system:serviceaccount:ci:deployer", "create", "default"),
		e("prod", "e0", 0, "alice", "list", ""),
		e("staging", "e1", 1, "carol", "get", "default"), // same audit ID, other cluster
	})
	must(t, "AppendAuditEvents", err)
	const rc = "/ResponseComplete"
	for _, tc := range []struct {
		name string
		q    store.AuditQuery
		want []string
	}{
		{"all, oldest first", store.AuditQuery{}, []string{"prod/e0" + rc, "prod/e1" + rc, "staging/e1" + rc, "staging/e2" + rc, "prod/e3" + rc, "prod/e4" + rc}},
		{"cluster", store.AuditQuery{Cluster: "staging"}, []string{"staging/e1" + rc, "staging/e2" + rc}},
		{"user", store.AuditQuery{User: "alice"}, []string{"prod/e0" + rc, "prod/e1" + rc, "staging/e2" + rc}},
		{"verb", store.AuditQuery{Verb: "create"}, []string{"staging/e2" + rc, "prod/e4" + rc}},
		{"namespace", store.AuditQuery{Namespace: "kube-system"}, []string{"prod/e3" + rc}},
		{"since is inclusive", store.AuditQuery{Since: at(3)}, []string{"prod/e3" + rc, "prod/e4" + rc}},
		{"until is exclusive", store.AuditQuery{Until: at(1)}, []string{"prod/e0" + rc}},
		{"range", store.AuditQuery{Since: at(1), Until: at(3)}, []string{"prod/e1" + rc, "staging/e1" + rc, "staging/e2" + rc}},
		{"audit IDs", store.AuditQuery{AuditIDs: []string{"e1", "e4", "nope"}}, []string{"prod/e1" + rc, "staging/e1" + rc, "prod/e4" + rc}},
		{"audit IDs and cluster", store.AuditQuery{AuditIDs: []string{"e1"}, Cluster: "prod"}, []string{"prod/e1" + rc}},
		{"limit", store.AuditQuery{Limit: 2}, []string{"prod/e0" + rc, "prod/e1" + rc}},
		{"newest first with limit", store.AuditQuery{Descending: true, Limit: 3}, []string{"prod/e4" + rc, "prod/e3" + rc, "staging/e2" + rc}},
		{"combined", store.AuditQuery{Cluster: "prod", User: "alice", Verb: "get", Since: at(0), Until: at(10)}, []string{"prod/e1" + rc}},
		{"no match", store.AuditQuery{User: "nobody"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.QueryAuditEvents(ctx, tc.q)
			must(t, "QueryAuditEvents", err)
			if diff := cmp.Diff(tc.want, eventKeys(got)); diff != "" {
				t.Errorf("QueryAuditEvents(%+v) (-want +got):\n%s", tc.q, diff)
			}
		})
	}
}
