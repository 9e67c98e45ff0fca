package nodecheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// strongProviders encrypt what they write; identity stores plain text.
var strongProviders = []string{"aescbc", "aesgcm", "kms", "secretbox"}

// encryptionProviders (CIS 1.2.28) reads the EncryptionConfiguration the API
// server names and fails every resources entry whose first provider — the
// one new writes use — does not encrypt. This is "encryption at rest".
func encryptionProviders(_ context.Context, n *Node, c *Component) []Result {
	if m := c.unknown(""); m != "" {
		return []Result{{Setting: "--encryption-provider-config", Missing: m}}
	}
	p, ok := c.Flags.Get("encryption-provider-config")
	if !ok || p == "" {
		return []Result{{Pass: false, Setting: "--encryption-provider-config", Message: c.Name + ": --encryption-provider-config is not set: secrets are stored in etcd unencrypted"}}
	}
	b, err := n.read(p)
	if errors.Is(err, errNotCollected) {
		return []Result{{Setting: "providers", File: p, Missing: err.Error()}}
	}
	if err != nil {
		return []Result{{Err: fmt.Errorf("read encryption configuration: %w", err), File: p}}
	}
	rps, err := EncryptionProviders(b)
	if err != nil {
		return []Result{{Err: fmt.Errorf("%s: %w", p, err), File: p}}
	}
	var out []Result
	for _, rp := range rps {
		res := strings.Join(rp.Resources, ",")
		r := Result{Pass: slices.Contains(strongProviders, rp.Provider), Setting: "providers[0] of " + res, Value: rp.Provider, From: p, File: p}
		if !r.Pass {
			r.Message = fmt.Sprintf("%s: %s are written with provider %q, which does not encrypt; put aescbc, aesgcm, kms or secretbox first", p, res, rp.Provider)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		out = append(out, Result{Setting: "resources", File: p, Message: p + ": no resources are configured for encryption"})
	}
	return out
}
