package vulndb

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mirror serves <Ecosystem>/all.zip from the real bundles, as osv.dev's
// bucket does.
func mirror(t *testing.T) *httptest.Server {
	dir := bundleDir(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		eco, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/all.zip")
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(dir, eco+"-all.zip"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestUpdate(t *testing.T) {
	srv := mirror(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "osv.db")
	res, err := Update(t.Context(), db, UpdateOptions{Mirror: srv.URL + "/", Ecosystems: []string{"Go", "Alpine"}, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Bundles) != 2 || res.Bundles[0].Advisories < 4000 {
		t.Errorf("update result = %+v", res.Bundles)
	}
	got := status(t, db)
	if got["Go"] < 4000 || got["Alpine"] < 2000 {
		t.Errorf("status after update = %v", got)
	}
	// Same code path as import: the source is the ecosystem's bundle.
	d, err := Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := d.Status(t.Context())
	d.Close()
	for _, e := range s.Ecosystems {
		if e.Source != e.Name+"-all.zip" {
			t.Errorf("%s source = %q", e.Name, e.Source)
		}
	}
	before, _ := os.ReadFile(db)
	// An ecosystem the mirror does not have fails the update and keeps the database.
	_, err = Update(t.Context(), db, UpdateOptions{Mirror: srv.URL, Ecosystems: []string{"Go", "Nope"}, Client: srv.Client()})
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "Nope/all.zip") {
		t.Errorf("update with a missing bundle: %v, want ErrDownload naming the URL", err)
	}
	after, _ := os.ReadFile(db)
	if string(before) != string(after) {
		t.Error("failed update changed the database")
	}
	assertNoTemp(t, dir)
}
