package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/imagescan"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

// uploadScan posts the scan result to palisade serve. The token comes from
// the environment, never a flag: flags end up in shell history and CI logs.
func uploadScan(ctx context.Context, g *globals, f imageScanFlags, img *image.Image, ref string, res *imagescan.Result) error {
	token := g.env.Getenv(f.tokenEnv)
	if token == "" {
		return usageError(fmt.Errorf("--upload needs an API token in $%s", f.tokenEnv))
	}
	if img.Metadata.Digest == "" {
		return usageError(errors.New("--upload needs an image with a digest (not a dir: source)"))
	}
	var report bytes.Buffer
	if err := finding.Write(&report, finding.FormatJSON, res.Report, finding.WriteOptions{}); err != nil {
		return err
	}
	sum := res.Report.Summary.OpenBySeverity
	body, err := json.Marshal(server.ScanUpload{
		ImageDigest: img.Metadata.Digest, ImageRef: ref, ScannedAt: res.Report.GeneratedAt, PolicyDigest: res.PolicyDigest,
		AdvisoryDBTime: res.DB.ImportedAt, Passed: res.Verdict.Pass, Report: report.Bytes(),
		Summary: store.SeverityCounts{Critical: sum.Critical, High: sum.High, Medium: sum.Medium, Low: sum.Low, Info: sum.Info, Unknown: sum.Unknown},
	})
	if err != nil {
		return fmt.Errorf("encode scan upload: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return usageError(fmt.Errorf("read --upload-ca-file: %w", err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return usageError(fmt.Errorf("--upload-ca-file %s holds no PEM certificate", f.caFile))
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(f.upload, "/")+"/api/v1/scans", bytes.NewReader(body))
	if err != nil {
		return usageError(fmt.Errorf("--upload %q: %w", f.upload, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("upload scan to %s: %w", f.upload, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("upload scan to %s: %s: %s", f.upload, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
