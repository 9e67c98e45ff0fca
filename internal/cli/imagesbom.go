package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/palisade-sec/palisade/internal/buildinfo"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/imagescan"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/list"
	"github.com/palisade-sec/palisade/internal/sbom"
)

// formatCycloneDX is the output name of CycloneDX 1.6 JSON. It is not a
// finding.Format: a CycloneDX document needs the inventory, which only the
// image commands have, so they shadow the global --output with their own.
const formatCycloneDX = "cyclonedx"

// imageOpenFlags say how to open an image; image scan and image sbom
// share them.
type imageOpenFlags struct {
	platform string
	insecure bool
}

func (f *imageOpenFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.platform, "platform", "", "os/arch[/variant] to pick from a multi-arch index (default: linux/host architecture)")
	fl.BoolVar(&f.insecure, "insecure-registry", false, "allow plain HTTP to the registry (loopback test registries)")
}

// options turns the flags into image.Options; a bad --platform is a
// usage error.
func (f *imageOpenFlags) options() (image.Options, error) {
	opts := image.Options{Insecure: f.insecure}
	if f.platform != "" {
		p, err := v1.ParsePlatform(f.platform)
		if err != nil {
			return opts, usageError(fmt.Errorf("--platform %q: %w", f.platform, err))
		}
		opts.Platform = p
	}
	return opts, nil
}

// registerImageOutput adds the image commands' own -o/--output, which
// shadows the global one so that it can offer cyclonedx.
func registerImageOutput(fl *pflag.FlagSet, p *string, def, formats string) {
	fl.StringVarP(p, "output", "o", def, "output format: "+formats)
}

// imageScanFormat parses image scan's --output: a finding format, or
// cyclonedx. It sets g.format (JSON for cyclonedx, so that the verdict
// goes to stderr like for the other machine formats) and reports whether
// the output is CycloneDX.
func imageScanFormat(g *globals, output string) (bool, error) {
	if strings.EqualFold(strings.TrimSpace(output), formatCycloneDX) {
		g.format = finding.FormatJSON
		return true, nil
	}
	f, err := finding.ParseFormat(output)
	if err != nil {
		return false, usageError(fmt.Errorf("--output: %w (or %s)", err, formatCycloneDX))
	}
	g.format = f
	return false, nil
}

// writeScanSBOM writes a scan as CycloneDX: the inventory and the
// vulnerability findings.
func writeScanSBOM(w io.Writer, g *globals, img *image.Image, ref string, res *imagescan.Result) error {
	findings := res.Report.Findings
	if findings == nil {
		// nil means "no scan"; a scan that found nothing still says so
		// with an empty vulnerabilities list.
		findings = []finding.Finding{}
	}
	doc := sbom.Build(sbom.Input{Image: img, Reference: ref, Inventory: res.Inventory, Findings: findings}, sbomOptions(g))
	return sbom.Write(w, doc)
}

func sbomOptions(g *globals) sbom.Options {
	return sbom.Options{Tool: finding.Tool{Name: "palisade", Version: buildinfo.Get().Version}, Time: g.env.Now()}
}

func newImageSBOMCommand(g *globals) *cobra.Command {
	var (
		f      imageOpenFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "sbom REF",
		Short: "Write the image's software bill of materials as CycloneDX 1.6 JSON",
		Long: `Inventory an image's OS and language packages (the extractors of image scan)
and write a CycloneDX 1.6 JSON document to stdout: the image as the main
component (type container, purl pkg:oci/NAME@DIGEST), its distribution as an
operating-system component, and every package as a library with its purl, the
files it was found in (evidence.occurrences) and the layer that added it
(palisade:layer:* properties). The output is deterministic: the same image at
the same time gives the same bytes. For the same document with the scan's
vulnerabilities, use palisade image scan -o cyclonedx.

REF is a registry reference (tag or digest), oci:DIR[:TAG], docker-archive:FILE
or dir:PATH.

Exit codes: 0 the document is complete; 2 bad reference or unreadable image
(when part of the image cannot be read, the document is still written, marked
palisade:inventory:partial, and the errors go to stderr); 3 internal error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !strings.EqualFold(strings.TrimSpace(output), formatCycloneDX) {
				return usageError(fmt.Errorf("--output %q: image sbom writes only %s", output, formatCycloneDX))
			}
			return runImageSBOM(cmd.Context(), g, cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	f.register(fl)
	registerImageOutput(fl, &output, formatCycloneDX, formatCycloneDX+" (CycloneDX 1.6 JSON, the only one)")
	return cmd
}

func runImageSBOM(ctx context.Context, g *globals, cmd *cobra.Command, ref string, f imageOpenFlags) error {
	src, err := image.ParseSource(ref)
	if err != nil {
		return usageError(err)
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	img, err := image.Open(ctx, src, opts)
	if err != nil {
		return usageError(fmt.Errorf("open image %s: %w", ref, err))
	}
	inv, err := inventory.Scan(ctx, img, list.Default(), inventory.Options{})
	if err != nil && inv == nil {
		return fmt.Errorf("inventory %s: %w", ref, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	doc := sbom.Build(sbom.Input{Image: img, Reference: ref, Inventory: inv}, sbomOptions(g))
	if err := sbom.Write(cmd.OutOrStdout(), doc); err != nil {
		return err
	}
	for _, e := range inv.FileErrors {
		fmt.Fprintf(cmd.ErrOrStderr(), "palisade: %v\n", e)
	}
	if inv.Partial {
		errs := []error{errors.New("part of the image could not be read")}
		for _, e := range inv.LayerErrors {
			errs = append(errs, e)
		}
		return usageError(fmt.Errorf("the SBOM of %s is incomplete: %w", ref, errors.Join(errs...)))
	}
	return nil
}
