package imagescan

import (
	"context"
	"fmt"
	"io"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/imagescan/imageconfig"
	"github.com/palisade-sec/palisade/internal/secrets"
)

// ImageConfig runs the image-configuration checks (CIS Docker Benchmark
// section 4): config checks over the image's config and history, and
// filesystem checks (setuid files, package caches) over the squashed
// filesystem during the shared walk. They read file metadata only.
type ImageConfig struct {
	// Checks to run; nil means imageconfig.All().
	Checks []*imageconfig.Check
	// Secrets judges configuration values; nil means the built-in rules.
	// Pass the secrets detector's scanner so one allowlist applies.
	Secrets *secrets.Scanner
}

// Name implements Detector.
func (ImageConfig) Name() string { return "image-config" }

// Detect implements Detector: it walks the image on its own.
func (c ImageConfig) Detect(ctx context.Context, img *image.Image) (*Detection, error) {
	s, err := c.Begin(ctx, img)
	if err != nil {
		return nil, err
	}
	view, walkErr := img.Walk(ctx, s.Visit)
	det, err := s.End(ctx, view, walkErr)
	if err != nil {
		return nil, err
	}
	if view != nil && view.Partial {
		det.Partial = true
		for _, e := range view.Errors {
			det.Errors = append(det.Errors, e)
		}
	}
	return det, nil
}

// Begin implements LayerDetector.
func (c ImageConfig) Begin(_ context.Context, img *image.Image) (LayerScan, error) {
	checks := c.Checks
	if checks == nil {
		checks = imageconfig.All()
	}
	if err := imageconfig.Validate(checks); err != nil {
		return nil, fmt.Errorf("check image-config checks: %w", err)
	}
	s := &configScan{c: c, img: img}
	for _, ch := range checks {
		if ch.Files != nil {
			s.files = append(s.files, ch)
			s.states = append(s.states, ch.Files())
		} else {
			s.config = append(s.config, ch)
		}
	}
	return s, nil
}

type configScan struct {
	c      ImageConfig
	img    *image.Image
	config []*imageconfig.Check
	files  []*imageconfig.Check
	states []imageconfig.FileCheck
}

// Visit offers final entries to the filesystem checks; it never reads r.
func (s *configScan) Visit(_ context.Context, f *image.File, _ io.Reader) error {
	if !f.Final {
		return nil
	}
	for _, st := range s.states {
		st.File(f)
	}
	return nil
}

// End runs the config checks and collects the filesystem checks'
// problems. A partial walk makes the filesystem checks partial; Scan
// reports the view's errors.
func (s *configScan) End(ctx context.Context, view *image.View, walkErr error) (*Detection, error) {
	d := &Detection{Partial: walkErr != nil || view != nil && view.Partial}
	ref, digest := s.img.Source.String(), s.img.Metadata.Digest
	// dir: sources have no configuration to judge.
	if s.img.Source.Kind != image.KindDir {
		in := &imageconfig.Input{Metadata: &s.img.Metadata, Layers: s.img.Layers, Secrets: s.c.Secrets}
		for _, ch := range s.config {
			ps, err := ch.Config(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("check %s: %w", ch.ID, err)
			}
			d.Findings = append(d.Findings, findings(ch, ps, ref, digest)...)
		}
	}
	for i, ch := range s.files {
		d.Findings = append(d.Findings, findings(ch, s.states[i].Problems(), ref, digest)...)
	}
	finding.Normalize(d.Findings)
	return d, nil
}

func findings(ch *imageconfig.Check, ps []imageconfig.Problem, ref, digest string) []finding.Finding {
	out := make([]finding.Finding, 0, len(ps))
	for _, p := range ps {
		out = append(out, ch.Finding(p, ref, digest))
	}
	return out
}

var (
	_ Detector      = ImageConfig{}
	_ LayerDetector = ImageConfig{}
)
