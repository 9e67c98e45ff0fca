package imagescan

import (
	"context"
	"io"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/secrets"
)

// Secrets runs the secrets scanner over every layer of the image.
type Secrets struct{ Scanner *secrets.Scanner }

// Name implements Detector.
func (Secrets) Name() string { return "secrets" }

func (s Secrets) scanner() *secrets.Scanner {
	if s.Scanner == nil {
		return &secrets.Scanner{}
	}
	return s.Scanner
}

// Detect implements Detector: it walks the image on its own.
func (s Secrets) Detect(ctx context.Context, img *image.Image) (*Detection, error) {
	res, err := s.scanner().ScanImage(ctx, img)
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

// Begin implements LayerDetector.
func (s Secrets) Begin(_ context.Context, img *image.Image) (LayerScan, error) {
	w, err := s.scanner().NewImageWalk(img)
	if err != nil {
		return nil, err
	}
	return secretsScan{w}, nil
}

type secretsScan struct{ w *secrets.ImageWalk }

func (s secretsScan) Visit(ctx context.Context, f *image.File, r io.Reader) error {
	return s.w.Visit(ctx, f, r)
}

// End reports the files the scanner could not read; the view's layer
// errors are the shared walk's, which Scan reports.
func (s secretsScan) End(_ context.Context, view *image.View, walkErr error) (*Detection, error) {
	res, err := s.w.Result(view, walkErr)
	if err != nil && res == nil {
		return nil, err
	}
	d := &Detection{Findings: res.Findings, Partial: res.Partial || err != nil}
	for _, e := range res.FileErrors {
		d.Errors = append(d.Errors, e)
	}
	if err != nil {
		d.Errors = append(d.Errors, err)
	}
	return d, nil
}

var (
	_ Detector      = Secrets{}
	_ LayerDetector = Secrets{}
)
