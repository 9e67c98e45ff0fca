package imageconfig

// CIS Docker Benchmark 4.10, "Ensure secrets are not stored in
// Dockerfiles": ENV values, labels and build arguments are stored in the
// image configuration and history in clear text, readable by anyone who
// can pull the image (docker history, docker inspect), even when no file
// holds them.

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/secrets"
)

// configPath is the path secret rules see for configuration text: no
// file rule matches it, so only content rules judge the values.
const configPath = "/.image-config"

// Evidence of config-secret problems. "secretRule" and "fingerprint" are
// key: the same secret found again is the same finding.
const (
	EvSecretRule = "secretRule"
	EvWhere      = "where"
)

// ConfigSecrets finds secrets in ENV values, labels, build arguments and
// history instructions, with the secret detection rules of
// internal/secrets (no rule is duplicated here). Findings carry the rule's
// severity, the redacted match and the fingerprint, never the secret.
func ConfigSecrets() *Check {
	return &Check{
		ID:          "image/config-secret",
		Title:       "Secret in the image configuration",
		Severity:    finding.SeverityHigh,
		Category:    secrets.Category,
		CIS:         "4.10",
		Rationale:   "ENV values, labels and build arguments are stored in clear text in the image config and history: anyone who can pull the image can read them.",
		Remediation: "Rotate the secret. Pass secrets at run time (Kubernetes Secrets, a secrets manager) and at build time with BuildKit secret mounts (RUN --mount=type=secret), never with ENV, LABEL or --build-arg.",
		Config:      configSecrets,
	}
}

// configText is one piece of configuration text offered to the rules.
type configText struct {
	where string // "ENV AWS_SECRET_ACCESS_KEY", "build argument TOKEN (history 3)"
	text  string
	layer *image.Layer
}

func configSecrets(ctx context.Context, in *Input) ([]Problem, error) {
	sc := in.Secrets
	if sc == nil {
		sc = &secrets.Scanner{}
	}
	var out []Problem
	seen := map[string]bool{}
	for _, t := range configTexts(in) {
		res, err := sc.ScanReader(ctx, configPath, strings.NewReader(t.text))
		if err != nil {
			return nil, fmt.Errorf("look for secrets in %s: %w", t.where, err)
		}
		for _, f := range res.Findings {
			rule, fp, match := f.RuleID, evidence(f, secrets.EvFingerprint), evidence(f, secrets.EvMatch)
			if seen[rule+"\x00"+fp] {
				continue // the same value in ENV and in the history's ENV step
			}
			seen[rule+"\x00"+fp] = true
			p := Problem{
				Severity: f.Severity,
				Message:  fmt.Sprintf("%s in %s", f.Title, t.where),
				Layer:    t.layer,
				Evidence: []finding.Evidence{
					{Name: EvSecretRule, Value: rule, Key: true},
					{Name: secrets.EvFingerprint, Value: fp, Key: true},
					{Name: EvWhere, Value: t.where},
				},
			}
			if match != "" {
				p.Evidence = append(p.Evidence, finding.Evidence{Name: secrets.EvMatch, Value: match})
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// configTexts lists ENV entries, labels (sorted by key), then each
// history entry's build arguments and the rest of its instruction.
func configTexts(in *Input) []configText {
	md := in.Metadata
	var out []configText
	for _, e := range md.Env {
		k, _, _ := strings.Cut(e, "=")
		out = append(out, configText{where: "ENV " + k, text: e})
	}
	keys := make([]string, 0, len(md.Labels))
	for k := range md.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, configText{where: "LABEL " + k, text: k + "=" + md.Labels[k]})
	}
	for i, h := range md.History {
		l := historyLayer(in, i)
		args, rest := BuildArgs(h.CreatedBy)
		for _, a := range args {
			k, _, _ := strings.Cut(a, "=")
			out = append(out, configText{where: fmt.Sprintf("build argument %s (history %d)", k, i), text: a, layer: l})
		}
		if strings.TrimSpace(rest) != "" {
			out = append(out, configText{where: "history " + strconv.Itoa(i) + " instruction", text: rest, layer: l})
		}
	}
	return out
}

// buildArgsPrefix matches the "|N " that builders put before the build
// arguments a RUN step saw: "|2 A=1 B=2 /bin/sh -c …" (legacy builder)
// or "RUN |2 A=1 B=2 /bin/sh -c …" (BuildKit).
var buildArgsPrefix = regexp.MustCompile(`^\s*(?:RUN\s+)?\|(\d{1,4})\s+`)

// BuildArgs splits a history created_by into its build arguments
// ("KEY=value", as recorded: a value with a space is cut there) and the
// rest of the instruction. Without a "|N" prefix, args is nil and rest is
// createdBy. It never fails: a count larger than the entries present
// takes what there is.
func BuildArgs(createdBy string) (args []string, rest string) {
	m := buildArgsPrefix.FindStringSubmatchIndex(createdBy)
	if m == nil {
		return nil, createdBy
	}
	n, _ := strconv.Atoi(createdBy[m[2]:m[3]])
	rest = createdBy[m[1]:]
	for range n {
		tok, after, _ := strings.Cut(rest, " ")
		if !strings.Contains(tok, "=") {
			break
		}
		args = append(args, tok)
		rest = strings.TrimLeft(after, " ")
	}
	return args, rest
}

// evidence returns the value of f's evidence name, or "".
func evidence(f finding.Finding, name string) string {
	for _, e := range f.Evidence {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
