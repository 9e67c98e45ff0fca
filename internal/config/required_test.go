package config

import (
	"strings"
	"testing"
)

func TestPostureRequiredMetadata(t *testing.T) {
	t.Parallel()
	c, err := Parse("c.yaml", []byte("posture:\n  requiredLabels:\n  - {key: owner}\n  requiredAnnotations:\n  - {key: example.com/contact, value: '[^@]+@example\\.com'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	labels, annotations := c.Posture.RequiredLabels, c.Posture.RequiredAnnotations
	if len(labels) != 1 || labels[0].Key != "owner" || !labels[0].Matches("") {
		t.Errorf("requiredLabels = %+v, want owner with any value", labels)
	}
	if len(annotations) != 1 || annotations[0].Key != "example.com/contact" {
		t.Fatalf("requiredAnnotations = %+v", annotations)
	}
	for v, want := range map[string]bool{"shop@example.com": true, "shop@example.com.evil": false, "x shop@example.com": true, "@example.com": false} {
		if got := annotations[0].Matches(v); got != want {
			t.Errorf("Matches(%q) = %v, want %v (the whole value must match)", v, got, want)
		}
	}
	for _, tc := range []struct{ name, yaml, err string }{
		{"bad key", "posture:\n  requiredLabels:\n  - {key: 'owner name'}\n", `posture.requiredLabels[0].key: "owner name" is not a label or annotation key`},
		{"bad value", "posture:\n  requiredAnnotations:\n  - {key: email, value: '[a-'}\n", `posture.requiredAnnotations[0].value: "[a-" is not a regular expression`},
		{"not a list", "posture:\n  requiredLabels: owner\n", "posture.requiredLabels: want a list of {key, value}"},
		{"unknown field", "posture:\n  requiredLabels:\n  - {name: owner}\n", `unknown field "name"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error = %v, want one containing %q", err, tc.err)
			}
		})
	}
}
