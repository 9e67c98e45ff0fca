package admission

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWebhookConfiguration(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	tests := []struct {
		name    string
		o       InstallOptions
		wantErr string
	}{
		{name: "url", o: InstallOptions{URL: "https://palisade.example:8443", CABundle: ca}},
		{name: "service", o: InstallOptions{Service: "palisade/palisade:8443", CABundle: ca, FailOpen: true}},
		{name: "plain http refused", o: InstallOptions{URL: "http://x", CABundle: ca}, wantErr: "want https"},
		{name: "both", o: InstallOptions{URL: "https://x", Service: "a/b", CABundle: ca}, wantErr: "not both"},
		{name: "neither", o: InstallOptions{CABundle: ca}, wantErr: "URL or Service"},
		{name: "no CA", o: InstallOptions{URL: "https://x"}, wantErr: "CA bundle"},
		{name: "bad service", o: InstallOptions{Service: "nonamespace", CABundle: ca}, wantErr: "namespace/name"},
		{name: "bad port", o: InstallOptions{Service: "a/b:99999", CABundle: ca}, wantErr: "bad port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vwc, err := WebhookConfiguration(tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := vwc.Webhooks[0]
			if *w.TimeoutSeconds != 3 || len(w.Rules) != 3 || w.SideEffects == nil {
				t.Errorf("webhook = %+v", w)
			}
			if got := string(*w.FailurePolicy); got != map[bool]string{true: "Ignore", false: "Fail"}[tt.o.FailOpen] {
				t.Errorf("failurePolicy %s with FailOpen=%v", got, tt.o.FailOpen)
			}
		})
	}
}

func TestMutatingWebhookConfiguration(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	o := InstallOptions{Service: "palisade/palisade:8443", CABundle: ca, ExcludeNamespaces: []string{"kube-system"}}
	mwc, err := MutatingWebhookConfiguration(o)
	if err != nil {
		t.Fatal(err)
	}
	vwc, err := WebhookConfiguration(o)
	if err != nil {
		t.Fatal(err)
	}
	m, v := mwc.Webhooks[0], vwc.Webhooks[0]
	if *m.ClientConfig.Service.Path != MutatePath || *v.ClientConfig.Service.Path != Path {
		t.Errorf("paths %s, %s", *m.ClientConfig.Service.Path, *v.ClientConfig.Service.Path)
	}
	if m.ReinvocationPolicy == nil || *m.ReinvocationPolicy != "IfNeeded" || *m.TimeoutSeconds != 3 {
		t.Errorf("mutating webhook = %+v", m)
	}
	if diff := cmp.Diff(v.Rules, m.Rules); diff != "" {
		t.Errorf("rules differ (-validating +mutating):\n%s", diff)
	}
	if diff := cmp.Diff(v.NamespaceSelector, m.NamespaceSelector); diff != "" {
		t.Errorf("selectors differ (-validating +mutating):\n%s", diff)
	}
	if _, err := MutatingWebhookConfiguration(InstallOptions{URL: "http://x", CABundle: ca}); err == nil {
		t.Error("plain http accepted")
	}
}
