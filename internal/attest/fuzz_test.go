package attest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

func FuzzParseKeys(f *testing.F) {
	priv, pub, _ := GenerateKey()
	f.Add(priv)
	f.Add(pub)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseKey("fuzz", b)
		_, _ = ParsePublicKey("fuzz", b)
	})
}

// FuzzVerify feeds arbitrary envelopes to Verify: attacker-controlled
// registry content must never panic the verifier or verify.
func FuzzVerify(f *testing.F) {
	priv, _, _ := GenerateKey()
	k, _ := ParseKey("k", priv)
	st, _ := Statement("r", digest, predicate("pass", fixedTime))
	env, _ := Sign(context.Background(), k, st)
	good, _ := json.Marshal(env)
	f.Add(good)
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e dsse.Envelope
		if json.Unmarshal(b, &e) != nil {
			return
		}
		other, _ := ParseKey("o", mustKey())
		if _, err := Verify(context.Background(), other.Public(), &e, digest); err == nil {
			t.Fatalf("an envelope verified with a key that never signed anything: %s", b)
		}
	})
}
