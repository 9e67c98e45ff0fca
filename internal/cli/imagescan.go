package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/buildinfo"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/imagescan"
	"github.com/palisade-sec/palisade/internal/imagescan/imageconfig"
	"github.com/palisade-sec/palisade/internal/inventory/list"
	"github.com/palisade-sec/palisade/internal/paths"
	"github.com/palisade-sec/palisade/internal/secrets"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

type imageScanFlags struct {
	imageOpenFlags
	output   string
	dbPath   string
	attest   bool
	keyPath  string
	noSecret bool
	upload   string
	tokenEnv string
	caFile   string
	storeDSN string
}

func newImageScanCommand(g *globals) *cobra.Command {
	var f imageScanFlags
	cmd := &cobra.Command{
		Use:   "scan REF",
		Short: "Scan an image for vulnerable packages and judge it against the image policy",
		Long: `Scan an image: inventory its OS and language packages, match them against the
advisory database (palisade db import / db update), apply exceptions, and judge
the result against imagePolicy in palisade.yaml (vulnerability counts per
severity, fixable-only, secrets, denied packages, advisory database age, and
remediation SLAs). SLAs count from when a finding was first seen on the image's
repository, kept in the store (--store or store.dsn); without a store they are
not evaluated and the verdict says so. The table output ends with the verdict,
each reason it failed and each warning (also on stderr). Secrets are looked for
in every layer: a secret a later layer deletes is still in the image. The image
configuration is checked against the CIS Docker Benchmark, section 4: root user,
HEALTHCHECK, secrets in ENV, labels and build arguments, ADD of remote URLs,
privileged ports, setuid/setgid files and package-manager caches left behind.
One streamed pass over the layers feeds all of it.

REF is a registry reference (tag or digest), oci:DIR[:TAG], docker-archive:FILE
or dir:PATH. With --attest --key KEY, a passing registry image gets a signed scan
attestation stored in its registry (palisade image verify checks it).

Exit codes: 0 the image passes; 1 it fails the image policy; 2 bad reference,
unreadable image or missing database; 3 internal error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runImageScan(cmd.Context(), g, cmd, args[0], f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dbPath, "db", "", "advisory database (default "+paths.VulnDB()+")")
	f.register(fl)
	registerImageOutput(fl, &f.output, string(finding.FormatTable), formatNames()+"|"+formatCycloneDX+" (CycloneDX 1.6 JSON: the SBOM with the vulnerabilities)")
	fl.BoolVar(&f.attest, "attest", false, "on a pass, sign a scan attestation and store it in the registry (needs --key)")
	fl.StringVar(&f.keyPath, "key", "", "private key for --attest (palisade key generate)")
	fl.BoolVar(&f.noSecret, "skip-secrets", false, "do not look for secrets and sensitive files (in layers or in the image configuration)")
	fl.StringVar(&f.upload, "upload", "", "record the result in palisade serve at this base URL (POST /api/v1/scans)")
	fl.StringVar(&f.tokenEnv, "upload-token-env", "PALISADE_TOKEN", "environment variable holding the API token for --upload")
	fl.StringVar(&f.storeDSN, "store", "", "store that keeps first-seen dates for imagePolicy.sla: a SQLite path or postgres://… (default: store.dsn; with neither, SLAs are not evaluated)")
	fl.StringVar(&f.caFile, "upload-ca-file", "", "PEM CA that verifies the server's certificate for --upload (its tls.crt when self-signed)")
	return cmd
}

func runImageScan(ctx context.Context, g *globals, cmd *cobra.Command, ref string, f imageScanFlags) error {
	cyclonedx, err := imageScanFormat(g, f.output)
	if err != nil {
		return err
	}
	if f.attest && f.keyPath == "" {
		return usageError(errors.New("--attest needs --key"))
	}
	var key *attest.Key
	if f.attest {
		k, err := attest.LoadKey(f.keyPath)
		if err != nil {
			return usageError(err)
		}
		key = k
	}
	src, err := image.ParseSource(ref)
	if err != nil {
		return usageError(err)
	}
	if f.attest && src.Kind != image.KindRegistry {
		return usageError(fmt.Errorf("--attest needs a registry reference; %s is a %s", ref, src.Kind))
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	dbPath := f.dbPath
	if dbPath == "" {
		dbPath = paths.VulnDB()
	}
	db, err := vulndb.Open(ctx, dbPath, g.logger)
	if err != nil {
		return usageError(err)
	}
	defer db.Close()
	st, err := openScanStore(ctx, g, f.storeDSN)
	if err != nil {
		return err
	}
	if st != nil {
		defer st.Close()
	}
	img, err := image.Open(ctx, src, opts)
	if err != nil {
		return usageError(fmt.Errorf("open image %s: %w", ref, err))
	}
	tool := finding.Tool{Name: "palisade", Version: buildinfo.Get().Version}
	var detectors []imagescan.Detector
	al := g.cfg.Secrets.Allowlist
	sc := &secrets.Scanner{Allowlist: secrets.Allowlist{Paths: al.Paths, Rules: al.Rules, Fingerprints: al.Fingerprints}}
	checks := imageconfig.All()
	if f.noSecret {
		checks = slices.DeleteFunc(checks, func(c *imageconfig.Check) bool { return c.Category == secrets.Category })
	} else {
		detectors = append(detectors, imagescan.Secrets{Scanner: sc})
	}
	detectors = append(detectors, imagescan.ImageConfig{Checks: checks, Secrets: sc})
	res, err := imagescan.Scan(ctx, img, ref, tool, imagescan.Options{
		Extractors: list.Default(),
		DB:         db,
		Detectors:  detectors,
		Baseline:   g.cfg.ImagePolicy,
		Exceptions: g.cfg.Exceptions,
		Now:        g.env.Now,
	})
	if err != nil {
		return err
	}
	popts := imagescan.PolicyOptions{
		Policy: g.cfg.ImagePolicy, Exceptions: g.cfg.Exceptions,
		Repository: imageRepository(src, f.insecure), ImageDigest: img.Metadata.Digest, Now: g.env.Now(),
	}
	if st != nil {
		popts.Store = st
	}
	if err := imagescan.ApplyPolicy(ctx, res, popts); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if cyclonedx {
		err = writeScanSBOM(out, g, img, ref, res)
	} else {
		err = finding.Write(out, g.format, res.Report, finding.WriteOptions{Color: g.color()})
	}
	if err != nil {
		return err
	}
	// Table output ends with the verdict; machine formats keep stdout to
	// the document, so the verdict goes to stderr.
	vout := cmd.ErrOrStderr()
	if g.format == finding.FormatTable {
		vout = out
	}
	printVerdict(vout, res)
	if vout != cmd.ErrOrStderr() {
		printPolicyWarnings(cmd.ErrOrStderr(), res.Verdict)
	}
	if f.upload != "" {
		if err := uploadScan(ctx, g, f, img, ref, res); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "palisade: scan recorded at %s\n", f.upload)
	}
	if !res.Verdict.Pass {
		if f.attest {
			fmt.Fprintln(cmd.ErrOrStderr(), "palisade: no attestation: the image did not pass")
		}
		return errViolation
	}
	if f.attest {
		where, err := attestScan(ctx, key, src, img, res, f.insecure, g.env.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "palisade: attestation stored at %s\n", where)
	}
	return nil
}

func printVerdict(w io.Writer, res *imagescan.Result) {
	fmt.Fprintf(w, "\n%s (%d packages; advisory database imported %s)\n", res.Verdict, len(res.Inventory.Packages), res.DB.ImportedAt.UTC().Format("2006-01-02"))
	for _, r := range res.Verdict.Reasons {
		fmt.Fprintf(w, "  - %s\n", r)
	}
	for _, r := range res.Verdict.Warnings {
		fmt.Fprintf(w, "  ! %s\n", r)
	}
}

func attestScan(ctx context.Context, key *attest.Key, src image.Source, img *image.Image, res *imagescan.Result, insecure bool, now time.Time) (string, error) {
	var nopts []name.Option
	if insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(src.Ref, nopts...)
	if err != nil {
		return "", usageError(fmt.Errorf("parse %s: %w", src.Ref, err))
	}
	sum := res.Report.Summary.OpenBySeverity
	p := &attest.ScanPredicate{
		ScannedAt: now.UTC(), AdvisoryDBTime: res.DB.ImportedAt, PolicyDigest: res.PolicyDigest, Verdict: "pass",
		Counts: map[string]int{"critical": sum.Critical, "high": sum.High, "medium": sum.Medium, "low": sum.Low, "unknown": sum.Unknown},
	}
	p.Scanner.Name, p.Scanner.Version = "palisade", buildinfo.Get().Version
	digest := ref.Context().Digest(img.Metadata.Digest)
	st, err := attest.Statement(strings.TrimSuffix(ref.Context().Name(), "/"), img.Metadata.Digest, p)
	if err != nil {
		return "", err
	}
	env, err := attest.Sign(ctx, key, st)
	if err != nil {
		return "", err
	}
	return attest.Registry{Insecure: insecure}.Attach(ctx, digest, env, now)
}
