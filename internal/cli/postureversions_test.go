package cli

import (
	"archive/zip"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/posture/versions"
)

// TestDBUpdateRefreshesVersions runs `db update` against an OSV mirror and
// an endoflife.date-shaped server on loopback: the versions table is saved
// to the cache and posture scans use it; a failing --versions-url given
// explicitly is an error and keeps the saved table.
func TestDBUpdateRefreshesVersions(t *testing.T) {
	var emptyZip bytes.Buffer
	if err := zip.NewWriter(&emptyZip).Close(); err != nil {
		t.Fatal(err)
	}
	eol := map[string]string{
		"kubernetes": `{"result":{"releases":[
			{"name":"1.38","releaseDate":"2026-12-16","eoasFrom":"2027-12-28","eolFrom":"2028-02-28","latest":{"name":"1.38.1"}},
			{"name":"1.37","releaseDate":"2026-08-26","eoasFrom":"2027-08-28","eolFrom":"2027-10-28","latest":{"name":"1.37.3"}}]}}`,
		"amazon-eks": `{"result":{"releases":[{"name":"1.37","releaseDate":"2026-10-01","eoasFrom":"2027-12-01","eolFrom":"2028-12-01","latest":{"name":"1.37-eks-2"}}]}}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/all.zip") {
			w.Write(emptyZip.Bytes())
			return
		}
		body, ok := eol[strings.TrimPrefix(r.URL.Path, "/eol/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	t.Setenv("PALISADE_CACHE_DIR", t.TempDir())
	db := filepath.Join(t.TempDir(), "osv.db")

	code, _, errOut := run(t, "db", "update", "--db", db, "--mirror", srv.URL, "--ecosystems", "Go", "--versions-url", srv.URL+"/eol/")
	if code != ExitOK {
		t.Fatalf("db update: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(versionsTablePath())
	if err != nil {
		t.Fatal(err)
	}
	tb, err := versions.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if tb.AsOf.String() != "2026-11-25" || tb.Newest().Minor != "1.38" {
		t.Errorf("saved table asOf %s newest %s; want the test clock's day and 1.38", tb.AsOf, tb.Newest().Minor)
	}
	if _, ok := tb.Release(versions.GKE, "1.35"); !ok {
		t.Error("GKE dates were not kept from the embedded table when its product failed")
	}
	if !strings.Contains(errOut, "google-kubernetes-engine") {
		t.Errorf("no warning about the failed GKE product: %s", errOut)
	}

	// A scan now judges against the saved table: 1.37.1 is a patch behind.
	node := writeTemp(t, "node.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {nodeInfo: {kubeletVersion: v1.37.1}}\n")
	code, out, errOut := run(t, "posture", "scan", "-o", "json", "--fail-on", "none", node)
	if code != ExitOK {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "the newest patch of 1.37 is 1.37.3 (versions table as of 2026-11-25)") {
		t.Errorf("scan did not use the saved table:\n%s", out)
	}

	code, _, errOut = run(t, "db", "update", "--db", db, "--mirror", srv.URL, "--ecosystems", "Go", "--versions-url", srv.URL+"/missing/")
	if code != ExitUsage || !strings.Contains(errOut, "refresh Kubernetes versions table") {
		t.Errorf("failing --versions-url: exit %d, stderr %s", code, errOut)
	}
	if again, _ := os.ReadFile(versionsTablePath()); !bytes.Equal(again, data) {
		t.Error("a failed refresh changed the saved table")
	}
	// An offline mirror without --versions-url leaves the table alone and
	// reaches no other host.
	code, _, errOut = run(t, "db", "update", "--db", db, "--mirror", srv.URL, "--ecosystems", "Go")
	if code != ExitOK {
		t.Errorf("offline update: exit %d: %s", code, errOut)
	}
}

func TestScanVersionFlags(t *testing.T) {
	pod := writeTemp(t, "pod.yaml", privilegedPod)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--distribution", "openshift"}, "--distribution"},
		{[]string{"--target-version", "one.two"}, "--target-version"},
	} {
		code, _, errOut := run(t, append([]string{"posture", "scan", pod}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %s", tc.args, code, errOut)
		}
	}
}
