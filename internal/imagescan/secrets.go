package imagescan

import (
	"context"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/secrets"
)

// Secrets runs the secrets scanner over every layer of the image.
type Secrets struct{ Scanner *secrets.Scanner }

// Name implements Detector.
func (Secrets) Name() string { return "secrets" }

// Detect implements Detector.
func (s Secrets) Detect(ctx context.Context, img *image.Image) (*Detection, error) {
	sc := s.Scanner
	if sc == nil {
		sc = &secrets.Scanner{}
	}
	res, err := sc.ScanImage(ctx, img)
	if err != nil && res == nil {
		return nil, err
	}
	d := &Detection{Findings: res.Findings, Partial: res.Partial || err != nil}
	for _, e := range res.LayerErrors {
		d.Errors = append(d.Errors, e)
	}
	if err != nil {
		d.Errors = append(d.Errors, err)
	}
	return d, nil
}

var _ Detector = Secrets{}
