package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// updateGolden rewrites the goldens of this file's tests with -update. It
// looks the flag up first, so another test file of the package may define it.
var updateGolden = func() *bool {
	if f := flag.Lookup("update"); f != nil {
		if g, ok := f.Value.(flag.Getter); ok {
			if b, ok := g.Get().(bool); ok {
				return &b
			}
		}
	}
	return flag.Bool("update", false, "rewrite golden files")
}()

func checkCLIGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "posturerbac", name+".golden")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestPostureWhoCanAndCan(t *testing.T) {
	rbacFixture := filepath.Join("..", "posture", "rbac", "testdata", "rbac.yaml")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"who-can-deployments-shop", []string{"posture", "who-can", "create", "deployments", "-n", "shop", rbacFixture}, ExitOK},
		{"who-can-pods-log", []string{"posture", "who-can", "get", "pods/log", "-n", "shop", rbacFixture}, ExitOK},
		{"who-can-metrics-json", []string{"posture", "who-can", "get", "/metrics", "-o", "json", rbacFixture}, ExitOK},
		{"who-can-nobody", []string{"posture", "who-can", "delete", "nodes", rbacFixture}, ExitOK},
		{"can-alice", []string{"posture", "can", "user:alice", rbacFixture}, ExitOK},
		{"can-alice-member-of-sre", []string{"posture", "can", "user:alice", "--member-of", "sre", rbacFixture}, ExitOK},
		{"can-sa-dangerous", []string{"posture", "can", "sa:shop:ci", "--dangerous", rbacFixture}, ExitOK},
		{"can-group-json", []string{"posture", "can", "group:sre", "-o", "json", rbacFixture}, ExitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			checkCLIGolden(t, tc.name, out)
		})
	}
}

func TestPostureRBACUsage(t *testing.T) {
	rbacFixture := filepath.Join("..", "posture", "rbac", "testdata", "rbac.yaml")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no input", []string{"posture", "can", "user:alice"}, "give manifest paths"},
		{"bad subject", []string{"posture", "can", "robot:x", rbacFixture}, "unknown kind"},
		{"bad verb", []string{"posture", "who-can", "get/x", "pods", rbacFixture}, "verb"},
		{"url with namespace", []string{"posture", "who-can", "get", "/metrics", "-n", "x", rbacFixture}, "non-resource URL"},
		{"sarif", []string{"posture", "can", "user:alice", "-o", "sarif", rbacFixture}, "table or json"},
		{"missing file", []string{"posture", "can", "user:alice", "does-not-exist.yaml"}, "does-not-exist.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, tc.args...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errOut, ExitUsage, tc.want)
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		verb, resource, sub string
		want                string
	}{
		{"get", "pods", "", "get pods"},
		{"create", "pods/exec", "", "create pods/exec"},
		{"create", "pods", "exec", "create pods/exec"},
		{"list", "deployments", "", "list deployments.apps"},
		{"list", "widgets.example.com", "", "list widgets.example.com"},
		{"update", "deployments.apps/scale", "", "update deployments/scale.apps"},
		{"get", "/healthz", "", "get /healthz"},
	} {
		r, err := parseRequest(tc.verb, tc.resource, "", tc.sub, "", "")
		if err != nil {
			t.Errorf("%s %s: %v", tc.verb, tc.resource, err)
			continue
		}
		if r.String() != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.verb, tc.resource, r.String(), tc.want)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range [][2]string{{"get", "pods"}, {"create", "pods/exec"}, {"list", "deployments.apps/scale"}, {"get", "/metrics"}, {"*", "*"}, {"get", "./x"}} {
		f.Add(s[0], s[1], "")
	}
	f.Fuzz(func(t *testing.T, verb, resource, sub string) {
		r, err := parseRequest(verb, resource, "", sub, "", "")
		if err != nil {
			return
		}
		if r.Verb == "" || (r.Path == "" && r.Resource == "") || strings.Contains(r.Subresource, "/") {
			t.Errorf("parseRequest(%q, %q, %q) = %+v: accepted without verb, resource or with a nested subresource", verb, resource, sub, r)
		}
	})
}
