package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

func TestClusterTargets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    []clusterTarget
		wantErr string
	}{
		{"none", nil, nil, ""},
		{"one current context", []string{"--kubeconfig", "a"}, []clusterTarget{{"a", ""}}, ""},
		{"one context", []string{"--kubeconfig", "a", "--context", "x"}, []clusterTarget{{"a", "x"}}, ""},
		{"context first", []string{"--context", "x", "--kubeconfig", "a"}, []clusterTarget{{"a", "x"}}, ""},
		{"contexts of one kubeconfig", []string{"--kubeconfig", "a", "--context", "x", "--context", "y"}, []clusterTarget{{"a", "x"}, {"a", "y"}}, ""},
		{"contexts around one kubeconfig", []string{"--context", "x", "--kubeconfig", "a", "--context", "y"}, []clusterTarget{{"a", "x"}, {"a", "y"}}, ""},
		{"pairs", []string{"--kubeconfig", "a", "--context", "x", "--kubeconfig", "b", "--context", "y"}, []clusterTarget{{"a", "x"}, {"b", "y"}}, ""},
		{"pair and current", []string{"--kubeconfig", "a", "--kubeconfig", "b", "--context", "y"}, []clusterTarget{{"a", ""}, {"b", "y"}}, ""},
		{"same kubeconfig twice", []string{"--kubeconfig", "a", "--context", "x", "--kubeconfig", "a", "--context", "y"}, []clusterTarget{{"a", "x"}, {"a", "y"}}, ""},
		{"context alone", []string{"--context", "x"}, nil, "--context needs --kubeconfig"},
		{"context before several", []string{"--context", "x", "--kubeconfig", "a", "--kubeconfig", "b"}, nil, "before the first of several"},
		{"twice", []string{"--kubeconfig", "a", "--context", "x", "--context", "x"}, nil, "given twice"},
		{"current twice", []string{"--kubeconfig", "a", "--kubeconfig", "a"}, nil, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := &clusterTargets{}
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			fs.Var(kubeconfigFlag{ct}, "kubeconfig", "")
			fs.Var(contextFlag{ct}, "context", "")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if got := ct.given(); got != (len(tc.args) > 0) {
				t.Errorf("given() = %v", got)
			}
			got, err := ct.resolve()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(clusterTarget{})); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClusterTargetsRejectEmpty(t *testing.T) {
	ct := &clusterTargets{}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.Var(kubeconfigFlag{ct}, "kubeconfig", "")
	fs.Var(contextFlag{ct}, "context", "")
	for _, args := range [][]string{{"--kubeconfig", ""}, {"--kubeconfig", "a", "--context", ""}} {
		if err := fs.Parse(args); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
