package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/policy"
	"github.com/palisade-sec/palisade/internal/policy/policytest"
)

func newPolicyCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Least-privilege policy as code: list the built-in library, test policies offline",
	}
	cmd.AddCommand(newPolicyTestCommand(g), newPolicyListCommand(g))
	return cmd
}

func newPolicyTestCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "test DIR",
		Short: "Evaluate policies against manifests offline and compare with expected results",
		Long: `Read DIR/` + policytest.FileName + ` — the policies (files or directories), the
manifests, and the result each policy must reach on each manifest (pass,
fail, warn or skip) — and evaluate them with the admission webhook's own
engine, so that what passes here is what the webhook admits. A result may
set the request around the manifest: operation (CREATE, UPDATE with
oldResource), dryRun, userInfo; and the policy's params. Namespace objects
among the manifests are the namespaceObject of resources in them.

fail means denied (enforce mode) or recorded (audit mode); warn means admitted
with a warning (warn mode). Modes and exceptions come from the policy files,
admission.policies.modes and exceptions of the configuration, and the
suite's modes. See docs/policies.md.

Output: a table, or -o json. Exits 1 when a result differs from the
expected one, 2 when the suite, a policy or a manifest is bad.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.format != finding.FormatTable && g.format != finding.FormatJSON {
				return usageError(fmt.Errorf("--output %s: policy test writes table or json", g.format))
			}
			suite, err := policytest.ReadSuite(args[0])
			if err != nil {
				return usageError(err)
			}
			outs, err := policytest.Run(cmd.Context(), suite, policytest.Options{Exceptions: g.cfg.Exceptions, Modes: g.cfg.Admission.Policies.Modes, Registries: g.cfg.Registries, PodSecurity: g.cfg.Admission.PodSecurity})
			var ie *policytest.InputError
			if errors.As(err, &ie) {
				return usageError(err)
			}
			if err != nil {
				return err
			}
			if err := writeOutcomes(g.env.Stdout, g.format, outs); err != nil {
				return err
			}
			for _, o := range outs {
				if !o.OK {
					return errViolation
				}
			}
			return nil
		},
	}
}

func writeOutcomes(w io.Writer, format finding.Format, outs []policytest.Outcome) error {
	failed := 0
	for _, o := range outs {
		if !o.OK {
			failed++
		}
	}
	if format == finding.FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Results []policytest.Outcome `json:"results"`
			Passed  int                  `json:"passed"`
			Failed  int                  `json:"failed"`
		}{outs, len(outs) - failed, failed})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tPOLICY\tRESOURCE\tEXPECTED\tGOT\tMESSAGE")
	for _, o := range outs {
		mark := "ok"
		if !o.OK {
			mark = "MISMATCH"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, o.Policy, o.Resource, o.Expected, o.Got, firstLine(o.Messages))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d results: %d as expected, %d mismatched\n", len(outs), len(outs)-failed, failed)
	return err
}

func firstLine(msgs []string) string {
	if len(msgs) == 0 {
		return ""
	}
	s := strings.ReplaceAll(msgs[0], "\n", " ")
	if len(msgs) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(msgs)-1)
	}
	return s
}

func newPolicyListCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in least-privilege policy library",
		Long: `List the built-in policies (lp/…): ID, severity, default mode, title and the
CIS / NSA / PSS controls each maps to. Enable, disable and set their modes
under admission.policies in palisade.yaml; -o json prints remediation too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := policy.Builtin()
			if err != nil {
				return err
			}
			if g.format == finding.FormatJSON {
				type entry struct {
					ID          string   `json:"id"`
					Title       string   `json:"title"`
					Severity    string   `json:"severity"`
					Mode        string   `json:"mode"`
					Remediation string   `json:"remediation"`
					Controls    []string `json:"controls"`
				}
				var out []entry
				for _, p := range ps {
					out = append(out, entry{p.ID, p.Title, p.Severity, string(p.Mode), p.Remediation, p.Controls})
				}
				enc := json.NewEncoder(g.env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if g.format != finding.FormatTable {
				return usageError(fmt.Errorf("--output %s: policy list writes table or json", g.format))
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tMODE\tTITLE\tCONTROLS")
			for _, p := range ps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Severity, p.Mode, p.Title, strings.Join(p.Controls, ", "))
			}
			return tw.Flush()
		},
	}
}
