package continuous

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

const (
	adminToken  = "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
	viewerToken = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
)

func TestRegistryAPI(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	kubeconfig, err := os.ReadFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	st, err := sqlite.Open(ctx, t.TempDir()+"/p.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	newManager := func() *Manager {
		m := New(context.Background(), Options{Scanner: posture.NewScanner(reg, nil), Findings: st, Alerts: st})
		t.Cleanup(m.Close)
		return m
	}
	dir := filepath.Join(t.TempDir(), "clusters")
	r := &Registry{Manager: newManager(), Dir: dir}

	tokens, err := server.ParseTokens("tokens", []byte(adminToken+",admin,"+AdminGroup+"\n"+viewerToken+",viewer\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	r.Mount(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + ln.Addr().String() + "/api/v1/clusters"

	call := func(method, url, token string, body any) (int, string) {
		t.Helper()
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequestWithContext(ctx, method, url, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	reg1 := registration{Name: "lab", Kubeconfig: string(kubeconfig)}
	tests := []struct {
		name, method, token string
		body                any
		want                int
		wantIn              string
	}{
		{"viewer may not register", "POST", viewerToken, reg1, http.StatusForbidden, AdminGroup},
		{"bad name", "POST", adminToken, registration{Name: "../etc", Kubeconfig: string(kubeconfig)}, http.StatusBadRequest, "name"},
		{"bad kubeconfig", "POST", adminToken, registration{Name: "x", Kubeconfig: "token: s3cr3t-value\n: ["}, http.StatusBadRequest, "parse kubeconfig"},
		{"admin registers", "POST", adminToken, reg1, http.StatusAccepted, "first scan started"},
		{"twice", "POST", adminToken, reg1, http.StatusConflict, "already registered"},
		{"viewer lists", "GET", viewerToken, nil, http.StatusOK, `"cluster":"lab"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(tt.method, base, tt.token, tt.body)
			if code != tt.want || !strings.Contains(body, tt.wantIn) {
				t.Errorf("%s: %d %s, want %d containing %q", tt.name, code, body, tt.want, tt.wantIn)
			}
			if strings.Contains(body, "s3cr3t") {
				t.Errorf("the response echoes kubeconfig content: %s", body)
			}
		})
	}
	// The raw form, as a shell script sends it.
	raw, _ := http.NewRequestWithContext(ctx, "POST", base+"?name=lab-raw", bytes.NewReader(kubeconfig))
	raw.Header.Set("Authorization", "Bearer "+adminToken)
	raw.Header.Set("Content-Type", "application/yaml")
	if resp, err := http.DefaultClient.Do(raw); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("raw kubeconfig registration: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	fi, err := os.Stat(filepath.Join(dir, "lab.kubeconfig"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved kubeconfig: %v %v", fi, err)
	}
	// A restarted server registers the saved cluster again.
	again := &Registry{Manager: newManager(), Dir: dir}
	if err := again.Load(); err != nil {
		t.Fatal(err)
	}
	if s := again.Manager.Status(); len(s) != 2 || s[0].Cluster != "lab" || s[1].Cluster != "lab-raw" {
		t.Errorf("after Load: %+v", s)
	}
	// Clusters from palisade.yaml: registered from their kubeconfig file,
	// not copied into the registry, and a configured name wins over a saved
	// registration of the same name.
	fromConfig := &Registry{Manager: newManager(), Dir: dir}
	err = fromConfig.Configured([]config.PostureCluster{
		{Name: "lab", Kubeconfig: c.Kubeconfig},
		{Name: "from-file", Kubeconfig: c.Kubeconfig},
		{Name: "missing", Kubeconfig: filepath.Join(t.TempDir(), "nope.kubeconfig")},
		{Name: "bad-context", Kubeconfig: c.Kubeconfig, Context: "no-such-context"},
	})
	for _, want := range []string{"posture.clusters[2] (missing)", "nope.kubeconfig", "posture.clusters[3] (bad-context)", "no-such-context"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Configured error = %v, want it to contain %q", err, want)
		}
	}
	if err := fromConfig.Load(); err == nil || !strings.Contains(err.Error(), "cluster lab") || !errors.Is(err, ErrDuplicate) {
		t.Errorf("Load after Configured: %v, want lab refused as a duplicate", err)
	}
	if s := fromConfig.Manager.Status(); len(s) != 3 || s[0].Cluster != "from-file" || s[1].Cluster != "lab" || s[2].Cluster != "lab-raw" {
		t.Errorf("configured + saved clusters: %+v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "from-file.kubeconfig")); !os.IsNotExist(err) {
		t.Errorf("a configured cluster's kubeconfig was copied into the registry: %v", err)
	}

	if code, _ := call("DELETE", base+"/lab", viewerToken, nil); code != http.StatusForbidden {
		t.Errorf("viewer delete: %d", code)
	}
	if code, body := call("DELETE", base+"/lab", adminToken, nil); code != http.StatusNoContent {
		t.Errorf("admin delete: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "lab.kubeconfig")); !os.IsNotExist(err) {
		t.Errorf("kubeconfig left after delete: %v", err)
	}
}
