package kube

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestHelmHooks(t *testing.T) {
	for _, tc := range []struct {
		name       string
		annotation *string
		hooks      []string
		test       bool
	}{
		{name: "no annotation"},
		{name: "empty", annotation: ptr(""), hooks: nil},
		{name: "test", annotation: ptr("test"), hooks: []string{"test"}, test: true},
		{name: "helm 2 test", annotation: ptr("test-success"), hooks: []string{"test-success"}, test: true},
		{name: "several, spaced and cased", annotation: ptr(" pre-install, Post-Upgrade ,"), hooks: []string{"pre-install", "post-upgrade"}},
		{name: "install and test", annotation: ptr("post-install,test-failure"), hooks: []string{"post-install", "test-failure"}, test: true},
		{name: "a name containing test", annotation: ptr("pre-test"), hooks: []string{"pre-test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &Object{}
			if tc.annotation != nil {
				o.Meta = metav1.ObjectMeta{Annotations: map[string]string{HelmHookAnnotation: *tc.annotation}}
			}
			if got := HelmHooks(o); !slices.Equal(got, tc.hooks) {
				t.Errorf("HelmHooks = %q, want %q", got, tc.hooks)
			}
			if got, want := IsHelmHook(o), len(tc.hooks) > 0; got != want {
				t.Errorf("IsHelmHook = %v, want %v", got, want)
			}
			if got := IsHelmTest(o); got != tc.test {
				t.Errorf("IsHelmTest = %v, want %v", got, tc.test)
			}
		})
	}
}

func ptr(s string) *string { return &s }
