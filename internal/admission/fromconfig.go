package admission

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
)

// verdictCacheSize bounds the verifier's caches: images in a cluster
// number in the thousands, and an entry is a few hundred bytes.
const verdictCacheSize = 8192

// FromConfig builds the engine `palisade serve` runs from palisade.yaml.
func FromConfig(cfg *config.Config, logger *slog.Logger) (*Engine, error) {
	a := cfg.Admission
	trust := &ImageTrust{Registries: cfg.Registries}
	if len(a.TrustedKeys) > 0 {
		keys := make([]*attest.PublicKey, 0, len(a.TrustedKeys))
		for _, path := range a.TrustedKeys {
			k, err := attest.LoadPublicKey(path)
			if err != nil {
				return nil, fmt.Errorf("admission.trustedKeys: %w", err)
			}
			keys = append(keys, k)
		}
		v, err := NewVerifier(attest.Registry{}, keys, verdictCacheSize)
		if err != nil {
			return nil, err
		}
		v.MaxScanAge, v.MaxDBAge = time.Duration(a.ImageTrust.MaxScanAge), time.Duration(a.ImageTrust.MaxDBAge)
		v.PolicyDigests = a.ImageTrust.PolicyDigests
		trust.Verifier = v
	}
	pss, err := NewPodSecurity(a.PodSecurity.Level, a.PodSecurity.Version)
	if err != nil {
		return nil, fmt.Errorf("admission.podSecurity: %w", err)
	}
	return &Engine{
		Rules: []Rule{
			{Policy: trust, Mode: Mode(a.ImageTrust.Mode), FailOpen: a.ImageTrust.FailOpen},
			{Policy: pss, Mode: Mode(a.PodSecurity.Mode)},
		},
		ExcludedNamespaces: a.ExcludeNamespaces,
		Exceptions:         cfg.Exceptions,
		Logger:             logger.With("component", "admission"),
	}, nil
}
