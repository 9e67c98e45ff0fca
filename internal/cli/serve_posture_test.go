package cli

import (
	"io"
	"log/slog"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/posture/versions"
)

// TestContinuousPostureBase: serve judges every cluster with the versions
// table `palisade db update` saved (when newer than the embedded one) and
// honours posture.annotationExceptions: false.
func TestContinuousPostureBase(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Setenv("PALISADE_CACHE_DIR", t.TempDir())

	cfg := config.Default()
	base := continuousPostureBase(cfg, log)
	if base.IgnoreAnnotationExceptions {
		t.Error("annotation exceptions off by default")
	}
	if base.Cluster.Versions == nil || base.Cluster.Versions.AsOf != versions.Embedded().AsOf {
		t.Errorf("without a saved table: %+v, want the embedded one", base.Cluster.Versions)
	}

	if err := writeFileAtomic(versionsTablePath(), []byte("asOf: 2099-01-02\ndistributions:\n  upstream: [{minor: \"1.99\", endOfLife: 2100-01-01}]\n")); err != nil {
		t.Fatal(err)
	}
	cfg.Posture.IgnoreAnnotationExceptions = true
	base = continuousPostureBase(cfg, log)
	if !base.IgnoreAnnotationExceptions {
		t.Error("posture.annotationExceptions: false not passed to the watchers")
	}
	if base.Cluster.Versions == nil || base.Cluster.Versions.AsOf.String() != "2099-01-02" {
		t.Errorf("the saved table is not used: %+v", base.Cluster.Versions)
	}
}
