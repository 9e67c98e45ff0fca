package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/falco"
	"github.com/palisade-sec/palisade/internal/buildinfo"
	"github.com/palisade-sec/palisade/internal/finding"
)

type auditReplayFlags struct {
	rules     []string
	noBuiltin bool
	failOn    string
	cluster   string
}

func newAuditCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Detect control-plane threats in Kubernetes audit logs",
	}
	cmd.AddCommand(newAuditReplayCommand(g))
	cmd.AddCommand(newAuditPolicyCommand())
	return cmd
}

func newAuditReplayCommand(g *globals) *cobra.Command {
	var f auditReplayFlags
	cmd := &cobra.Command{
		Use:   "replay FILE...",
		Short: "Run the detection pipeline over recorded audit logs and print the alerts",
		Long: `Replay decodes recorded audit logs in any supported format, detected per file
and per record: audit.k8s.io Event JSON lines (--audit-log-path), EventList
webhook batches, EKS CloudWatch Logs subscription and Firehose records, GKE
Cloud Logging entries (also in Pub/Sub push messages) and AKS diagnostic
records; gzip'd files too. "-" reads standard input.

Events run through the built-in rules (unless --no-builtin-rules), any
--rules files — Palisade rule files or Falco k8saudit rule files, told apart
by their shape — and the correlation sequences. Alerts print as a table, or
with -o json as one JSON object per line carrying the rule, severity, MITRE
ids and the auditIDs of the evidence events.

Replay is for investigation and rule testing, so by default it does not fail
on alerts; --fail-on SEVERITY exits 1 when an alert at or above it fires.
Input that cannot be read or records that do not decode exit 2, after the
alerts of everything that did decode.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runAuditReplay(cmd, g, f, args) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.rules, "rules", nil, "rule file to add, Palisade or Falco format (repeatable; Falco files load in order)")
	fl.BoolVar(&f.noBuiltin, "no-builtin-rules", false, "run only the rules of --rules files")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when an alert of this severity or higher fires: critical, high, medium, low, info (default: never)")
	fl.StringVar(&f.cluster, "cluster", "", "cluster name to record on events whose envelope does not name one")
	return cmd
}

func runAuditReplay(cmd *cobra.Command, g *globals, f auditReplayFlags, files []string) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	failOn := finding.Severity(-1)
	if f.failOn != "" {
		s, err := finding.ParseSeverity(f.failOn)
		if err != nil || s == finding.SeverityUnknown {
			return usageError(fmt.Errorf("--fail-on %q: want critical, high, medium, low or info", f.failOn))
		}
		failOn = s
	}
	set, err := loadAuditRules(stderr, f)
	if err != nil {
		return err
	}
	en, err := audit.NewEngine(set, audit.EngineOptions{Exceptions: g.cfg.Exceptions, Now: g.env.Now, Logger: g.logger})
	if err != nil {
		return usageError(err)
	}
	var alerts []*audit.Alert
	out := cmd.OutOrStdout()
	enc := json.NewEncoder(out)
	emit := func(a *audit.Alert) error {
		alerts = append(alerts, a)
		if g.format == finding.FormatJSON {
			return enc.Encode(a) // streamed: one alert per line as it fires
		}
		return nil
	}
	var inputErrs []error
	for _, name := range files {
		if err := replayFile(ctx, g, en, name, f.cluster, emit, stderr, &inputErrs); err != nil {
			return err
		}
	}
	switch g.format {
	case finding.FormatJSON:
	case finding.FormatSARIF:
		fs := make([]finding.Finding, len(alerts))
		for i, a := range alerts {
			fs[i] = a.Finding()
		}
		info := buildinfo.Get()
		rep := finding.NewReport(finding.Tool{Name: "palisade", Version: info.Version}, strings.Join(files, ","), g.env.Now(), fs)
		if err := finding.Write(out, g.format, rep, finding.WriteOptions{}); err != nil {
			return err
		}
	default:
		writeAlertTable(out, alerts)
	}
	st := en.Stats()
	fmt.Fprintf(stderr, "palisade: %d events, %d duplicates, %d alerts (%d throttled, %d excepted) from %d rules and %d sequences\n",
		st.Events, st.Duplicates, len(alerts), st.Throttled, st.Excepted, len(set.Rules), len(set.Sequences))
	if len(inputErrs) > 0 {
		return usageError(errors.Join(inputErrs...))
	}
	for _, a := range alerts {
		if failOn >= 0 && a.Severity >= failOn {
			return errViolation
		}
	}
	return nil
}

// loadAuditRules builds the rule set: built-ins, then --rules files. Falco
// files load into one loader, in order, so that later files override
// earlier ones as in Falco; rules using unsupported constructs are listed
// on stderr and left out.
func loadAuditRules(stderr io.Writer, f auditReplayFlags) (*audit.RuleSet, error) {
	env, err := audit.NewCELEnv()
	if err != nil {
		return nil, err
	}
	set := &audit.RuleSet{}
	if !f.noBuiltin {
		b, err := audit.Builtin(env)
		if err != nil {
			return nil, fmt.Errorf("load built-in rules: %w", err)
		}
		set.Merge(b)
	}
	var fl *falco.Loader
	for _, p := range f.rules {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, usageError(fmt.Errorf("read rules: %w", err))
		}
		if audit.LooksLikeFalco(data) {
			if fl == nil {
				fl = falco.NewLoader()
			}
			if err := fl.Add(p, data); err != nil {
				return nil, usageError(err)
			}
			continue
		}
		s, err := audit.LoadRules(env, p, data)
		if err != nil {
			return nil, usageError(err)
		}
		set.Merge(s)
	}
	if fl != nil {
		res := fl.Compile()
		for _, e := range res.Errors {
			fmt.Fprintf(stderr, "palisade: warning: %v (rule not loaded)\n", e)
		}
		if len(res.Errors) > 0 {
			fmt.Fprintf(stderr, "palisade: warning: %d Falco rules not loaded (%d unsupported constructs), %d loaded\n",
				len(res.Errors), res.Unsupported(), len(res.Rules))
		}
		set.Rules = append(set.Rules, res.Rules...)
	}
	if len(set.Rules) == 0 {
		return nil, usageError(errors.New("no rules: --no-builtin-rules needs at least one --rules file with rules"))
	}
	return set, nil
}

func replayFile(ctx context.Context, g *globals, en *audit.Engine, name, cluster string, emit func(*audit.Alert) error, stderr io.Writer, inputErrs *[]error) error {
	var r io.Reader
	if name == "-" {
		r = g.env.Stdin
	} else {
		fh, err := os.Open(name)
		if err != nil {
			*inputErrs = append(*inputErrs, fmt.Errorf("open audit log: %w", err))
			return nil
		}
		defer fh.Close()
		r = fh
	}
	st, err := audit.Replay(ctx, en, r, audit.Source{Name: name, Cluster: cluster}, g.env.Now, emit)
	for _, e := range st.Errors {
		fmt.Fprintf(stderr, "palisade: %v\n", e)
	}
	if st.ErrorCount > len(st.Errors) {
		fmt.Fprintf(stderr, "palisade: %s: %d more bad records\n", name, st.ErrorCount-len(st.Errors))
	}
	if st.ErrorCount > 0 {
		*inputErrs = append(*inputErrs, fmt.Errorf("%s: %d records did not decode", name, st.ErrorCount))
	}
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		*inputErrs = append(*inputErrs, err)
	}
	return nil
}

func writeAlertTable(w io.Writer, alerts []*audit.Alert) {
	if len(alerts) == 0 {
		fmt.Fprintln(w, "No alerts.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSEVERITY\tRULE\tACTOR\tTARGET\tMITRE\tEVIDENCE")
	for _, a := range alerts {
		target := a.Target.Resource
		if a.Target.Subresource != "" {
			target += "/" + a.Target.Subresource
		}
		if a.Target.Namespace != "" {
			target += " " + a.Target.Namespace + "/" + a.Target.Name
		} else if a.Target.Name != "" {
			target += " " + a.Target.Name
		}
		ev := strings.Join(a.Evidence, ",")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Time.UTC().Format(time.RFC3339), a.Severity, a.RuleName,
			a.Actor, target, strings.Join(append(append([]string(nil), a.MITRE.Tactics...), a.MITRE.Techniques...), ","), ev)
	}
	tw.Flush()
}
