package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube/render"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
	"github.com/palisade-sec/palisade/internal/posture/peerexceptions"
)

// defaultImportExpiry is how long imported exceptions last unless
// --expires says: long enough to review them, short enough that nobody
// forgets they were imported wholesale.
const defaultImportExpiry = 90 * 24 * time.Hour

func newPostureExceptionsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exceptions",
		Short: "Work with posture exceptions (import another tool's)",
	}
	cmd.AddCommand(newPostureExceptionsImportCommand(g))
	return cmd
}

func newPostureExceptionsImportCommand(g *globals) *cobra.Command {
	var owner, expires string
	cmd := &cobra.Command{
		Use:   "import kubescape|trivy FILE | import annotations PATH...",
		Short: "Translate Kubescape's exceptions, Trivy's .trivyignore or other tools' exemption annotations into palisade.yaml exceptions",
		Long: `Translate another tool's accepted risks into palisade.yaml 'exceptions:'
entries, written to standard output for review:

  palisade posture exceptions import kubescape kubescape-exceptions.json --owner platform@example.com
  palisade posture exceptions import trivy .trivyignore --owner platform@example.com --expires 2027-03-31
  palisade posture exceptions import annotations deploy/ --owner platform@example.com

Kubescape: each resource designator of an exception becomes one entry,
matching the Palisade checks of its controls (by ID or name, through the
same mapping as the peer-corpus comparison); names, namespaces and kinds,
anchored regular expressions in Kubescape, become globs where a glob can say
them. Trivy: each ID of .trivyignore (KSV001, AVD-KSV-0001, or an advisory
such as CVE-2024-3094 for 'palisade image scan') becomes one entry matching
the check everywhere, with its exp: date when given. Annotations: the
exemptions kube-linter (ignore-check.kube-linter.io/CHECK), Polaris
(polaris.fairwinds.com/CHECK-exempt, polaris.fairwinds.com/exempt) and
Checkov (checkov.io/skipN: CKV_K8S_20=reason) read from the objects in
PATH (files, directories, charts and kustomizations, read as posture scan
reads them) become one entry per annotated object.

Every entry says where it came from and where it covers more than the
original (a Palisade check broader than the peer's); what cannot be
translated (a cluster-scoped designator, a regular expression no glob can
say, a control with no Palisade counterpart) is listed at the end as
comments and on standard error. Palisade exceptions need an owner and an
expiry: --owner is required, --expires defaults to 90 days from today.
Exits 0 when everything was translated, 1 when something was not.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			tool, file := args[0], args[1]
			if tool != "annotations" && len(args) > 2 {
				return usageError(fmt.Errorf("posture exceptions import %s: one file, not %d", tool, len(args)-1))
			}
			if owner == "" {
				return usageError(fmt.Errorf("posture exceptions import: --owner is required: who accepts these risks"))
			}
			if expires == "" {
				expires = g.env.Now().Add(defaultImportExpiry).UTC().Format(time.DateOnly)
			} else if _, err := config.ParseDate(expires); err != nil {
				return usageError(fmt.Errorf("posture exceptions import: --expires: %w", err))
			}
			peers, err := compliance.LoadPeers()
			if err != nil {
				return err
			}
			var t *peerexceptions.Translation
			switch tool {
			case "kubescape", "trivy":
				translate := peerexceptions.Kubescape
				if tool == "trivy" {
					translate = peerexceptions.TrivyIgnore
				}
				data, err := os.ReadFile(file)
				if err != nil {
					return usageError(fmt.Errorf("posture exceptions import: %w", err))
				}
				if t, err = translate(data, peers); err != nil {
					return usageError(fmt.Errorf("posture exceptions import: %s: %w", file, err))
				}
			case "annotations":
				paths := args[1:]
				file = strings.Join(paths, ", ")
				inv, err := render.Load(cmd.Context(), paths, g.env.Stdin, render.Options{Logger: g.logger})
				if err != nil {
					// As posture scan: what could not be read is named, and
					// nothing is translated from a partial reading.
					return usageError(fmt.Errorf("posture exceptions import annotations: %w", err))
				}
				t = peerexceptions.Annotations(inv.Objects, peers)
			default:
				return usageError(fmt.Errorf("posture exceptions import: unknown source %q: kubescape, trivy or annotations", tool))
			}
			if err := peerexceptions.Write(cmd.OutOrStdout(), t, file, owner, expires); err != nil {
				return err
			}
			for _, s := range t.Skipped {
				g.logger.Warn("not translated", "source", s.Source, "why", s.Why)
			}
			g.logger.Info("exceptions translated; review them before adding them to palisade.yaml", "translated", len(t.Entries), "skipped", len(t.Skipped))
			if len(t.Skipped) > 0 {
				return errViolation
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "", "owner of the imported exceptions (a person or team; required)")
	cmd.Flags().StringVar(&expires, "expires", "", "expiry of the imported exceptions, YYYY-MM-DD (default: 90 days from today; a .trivyignore exp: date wins)")
	return cmd
}
