package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/attest"
)

func newImageCommand(g *globals) *cobra.Command {
	img := &cobra.Command{Use: "image", Short: "Scan images, write their SBOMs and check their attestations"}
	img.AddCommand(newImageScanCommand(g), newImageSBOMCommand(g), newImageVerifyCommand(g))
	return img
}

func newImageVerifyCommand(g *globals) *cobra.Command {
	var keyPath string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "verify REF",
		Short: "Check that an image carries a passing scan attestation signed by KEY",
		Long: `Resolve REF to a digest, find its Palisade scan attestations (OCI referrers, or
the sha256-<hex>.att tag), verify their DSSE signatures with the public key and
report the newest one.

Exit codes: 0 a valid attestation says the image passed; 1 the newest valid
attestation says it failed, or none verifies; 2 bad arguments or key.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" {
				return usageError(errors.New("--key is required"))
			}
			pub, err := attest.LoadPublicKey(keyPath)
			if err != nil {
				return usageError(err)
			}
			reg := attest.Registry{Insecure: insecure}
			v, err := reg.VerifyImage(cmd.Context(), args[0], pub)
			out := cmd.OutOrStdout()
			if errors.Is(err, attest.ErrNotAttested) {
				fmt.Fprintf(cmd.ErrOrStderr(), "palisade: %v\n", err)
				return errViolation
			}
			if err != nil {
				return usageError(err)
			}
			p := v.Attestation.Predicate
			if g.format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"digest": v.Digest, "keyId": v.Attestation.KeyID, "predicate": p, "rejected": len(v.Rejected)}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "%s@%s\n  verdict:    %s\n  scanned at: %s by %s %s\n  policy:     %s\n  counts:     %v\n  signed by:  %s\n",
					args[0], v.Digest, p.Verdict, p.ScannedAt.Format("2006-01-02 15:04:05Z07:00"), p.Scanner.Name, p.Scanner.Version, p.PolicyDigest, p.Counts, v.Attestation.KeyID)
			}
			if !p.Passed() {
				return errViolation
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "public key file (PEM) that signs trusted attestations")
	cmd.Flags().BoolVar(&insecure, "insecure-registry", false, "allow plain HTTP to the registry (loopback test registries)")
	return cmd
}
