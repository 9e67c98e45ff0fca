package secrets_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/secrets"
)

// A Scanner with the built-in rules, an allowlist for documentation
// paths, scanning one file. Findings carry the redacted match and a
// fingerprint, never the secret.
func ExampleScanner_ScanReader() {
	s := secrets.Scanner{
		Rules:     secrets.Default(),
		Allowlist: secrets.Allowlist{Paths: []string{"/usr/share/doc/**"}},
	}
	conf := "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
	res, err := s.ScanReader(context.Background(), "/app/aws.ini", strings.NewReader(conf))
	if err != nil {
		panic(err)
	}
	for _, f := range res.Findings {
		fmt.Println(f.RuleID, f.Severity, f.Resource.File, f.Resource.Line)
		for _, e := range f.Evidence {
			if e.Name == secrets.EvMatch {
				fmt.Println(e.Value)
			}
		}
	}
	// Output:
	// secret/aws-access-key low /app/aws.ini 2
	// AKIA…(20 chars)
}
