package policy

import (
	"testing"
)

func TestConfigMapOfFile(t *testing.T) {
	tests := []struct {
		file string
		want ConfigMapRef
		ok   bool
	}{
		{"palisade/policies[limits.yaml]", ConfigMapRef{Namespace: "palisade", Name: "policies"}, true},
		{"palisade/policies.v2[a]", ConfigMapRef{Namespace: "palisade", Name: "policies.v2"}, true},
		{"/etc/palisade/policies/limits.yaml", ConfigMapRef{}, false},
		{"policies/limits.yaml", ConfigMapRef{}, false},
		{"palisade/policies[limits.yaml", ConfigMapRef{}, false},
		{"Palisade/policies[a]", ConfigMapRef{}, false},
		{"palisade/[a]", ConfigMapRef{}, false},
		{"", ConfigMapRef{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, ok := configMapOfFile(tt.file)
			if got != tt.want || ok != tt.ok {
				t.Errorf("configMapOfFile(%q) = %v, %v; want %v, %v", tt.file, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzConfigMapOfFile checks that any file name parses without panicking
// and that what parses names a ConfigMap that prints back as the prefix.
func FuzzConfigMapOfFile(f *testing.F) {
	for _, s := range []string{"palisade/policies[limits.yaml]", "a/b[]", "/x", "a/b[c]d]", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		ref, ok := configMapOfFile(file)
		if !ok {
			return
		}
		if ref.Namespace == "" || ref.Name == "" || len(file) < len(ref.String())+2 || file[:len(ref.String())+1] != ref.String()+"[" {
			t.Fatalf("configMapOfFile(%q) = %v", file, ref)
		}
	})
}
