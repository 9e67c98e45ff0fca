package falco_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/sharedtest"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/falco"
)

const samples = "../../../../shared/audit-samples/falco"

// suiteCase is one case of Falco's falco_k8s_audit_tests.yaml.
type suiteCase struct {
	Detect       bool             `yaml:"detect"`
	RulesFile    []string         `yaml:"rules_file"`
	DetectCounts []map[string]int `yaml:"detect_counts"`
	Opts         string           `yaml:"addl_cmdline_opts"`
}

// knownMismatches are the suite's cases where our result differs from
// Falco's 2023 expectation, with the reason. The test fails when a case
// listed here starts to agree (update the list) or when another disagrees.
var knownMismatches = map[string]string{
	"create_clusterrole":                 renamed,
	"create_clusterrolebinding":          renamed,
	"delete_clusterrole":                 renamed,
	"delete_clusterrolebinding":          renamed,
	"create_hostnetwork_trusted_pod":     listRenamed,
	"create_privileged_trusted_pod":      listRenamed,
	"create_sensitive_mount_trusted_pod": listRenamed,
}

// The two kinds of drift between the suite (2023) and today's rules.
const (
	renamed     = "rule renamed since 2023: K8s Role/Clusterrole… split into K8s Role… and K8s ClusterRole…"
	listRenamed = "the override file appends to falco_*_images, which today's rules no longer read (now k8s_audit_*_images)"
)

// drift2023 maps the suite's 2023 names to today's, for the adjusted count.
var drift2023 = strings.NewReplacer(
	"K8s Role/Clusterrole Created", "K8s ClusterRole Created",
	"K8s Role/Clusterrole Deleted", "K8s ClusterRole Deleted",
	"K8s Role/Clusterrolebinding Created", "K8s ClusterRoleBinding Created",
	"K8s Role/Clusterrolebinding Deleted", "K8s ClusterRoleBinding Deleted",
	"falco_privileged_images", "k8s_audit_privileged_images",
	"falco_sensitive_mount_images", "k8s_audit_sensitive_mount_images",
	"falco_hostnetwork_images", "k8s_audit_hostnetwork_images",
)

// rulesPath maps a rules file of the suite to the copy in samples.
func rulesPath(p string) string {
	switch {
	case strings.HasSuffix(p, "falco_rules.yaml"):
		return "" // syscall rules: irrelevant to audit events
	case strings.HasSuffix(p, "k8saudit-rules/k8s_audit_rules.yaml"):
		return filepath.Join(samples, "rules", "k8s_audit_rules.yaml")
	}
	return filepath.Join(samples, "rules", "test", strings.TrimPrefix(p, "./rules/k8s_audit/"))
}

// TestFalcoRegression replays each trace of Falco's own k8s_audit
// regression suite through Falco's rules, translated, and compares the
// alerts per rule with the suite's detect_counts.
func TestFalcoRegression(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samples, "falco_k8s_audit_tests.yaml"))
	if err != nil {
		sharedtest.Missing(t, "Falco samples not available: %v", err)
	}
	var suite struct {
		TraceFiles map[string]suiteCase `yaml:"trace_files"`
	}
	if err := yaml.Unmarshal(data, &suite); err != nil {
		t.Fatal(err)
	}
	traceRE := regexp.MustCompile(`open_params=trace_files/k8s_audit/(\S+)`)
	names := make([]string, 0, len(suite.TraceFiles))
	for n := range suite.TraceFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	agree, adjusted := 0, 0
	for _, name := range names {
		c := suite.TraceFiles[name]
		ok := runAndCompare(t, c, traceRE, false)
		if runAndCompare(t, c, traceRE, true) {
			adjusted++
		}
		reason, known := knownMismatches[name]
		switch {
		case ok && known:
			t.Errorf("%s: agrees now; remove it from knownMismatches (%s)", name, reason)
		case !ok && !known:
			t.Errorf("%s: disagrees with Falco's expectation (detect=%v, counts %v)", name, c.Detect, c.DetectCounts)
		}
		if ok {
			agree++
		}
	}
	t.Logf("Falco k8s_audit regression: %d/%d cases agree as written; %d/%d after mapping the 2023 rule and list names to today's", agree, len(names), adjusted, len(names))
	if adjusted != len(names) {
		t.Errorf("adjusted agreement %d/%d, want all", adjusted, len(names))
	}
}

// runAndCompare runs one case and reports whether it matches the suite;
// adjust maps 2023 names to today's first.
func runAndCompare(t *testing.T, c suiteCase, traceRE *regexp.Regexp, adjust bool) bool {
	got, err := runCase(t, c, traceRE, adjust)
	want := map[string]int{}
	for _, m := range c.DetectCounts {
		for k, v := range m {
			if adjust {
				k = drift2023.Replace(k)
			}
			want[k] = v
		}
	}
	return err == nil && (c.Detect == (len(got) > 0)) && (!c.Detect || countsMatch(want, got))
}

// countsMatch compares the rules the suite counts; other rules firing too
// is what Falco does as well (the suite only lists the ones it checks).
func countsMatch(want, got map[string]int) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func runCase(t *testing.T, c suiteCase, traceRE *regexp.Regexp, adjust bool) (map[string]int, error) {
	t.Helper()
	l := falco.NewLoader()
	for _, f := range c.RulesFile {
		p := rulesPath(f)
		if p == "" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if adjust && strings.Contains(p, "/test/") {
			data = []byte(drift2023.Replace(string(data)))
		}
		if err := l.Add(filepath.Base(p), data); err != nil {
			return nil, err
		}
	}
	res := l.Compile()
	en, err := audit.NewEngine(&audit.RuleSet{Rules: res.Rules}, audit.EngineOptions{})
	if err != nil {
		return nil, err
	}
	m := traceRE.FindStringSubmatch(c.Opts)
	if m == nil {
		t.Fatalf("no trace in %q", c.Opts)
	}
	f, err := os.Open(filepath.Join(samples, "trace_files", m[1]))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	got := map[string]int{}
	_, err = audit.Replay(t.Context(), en, f, audit.Source{Name: m[1]}, time.Now, func(a *audit.Alert) error {
		got[a.RuleName]++
		return nil
	})
	return got, err
}

// TestFalcoRulesTranslate loads the current Falco k8saudit rules and
// reports which rules do not translate.
func TestFalcoRulesTranslate(t *testing.T) {
	l := falco.NewLoader()
	for _, f := range []string{"k8s_audit_rules.yaml", "k8s_audit_rules_gke.yaml"} {
		data, err := os.ReadFile(filepath.Join(samples, "rules", f))
		if err != nil {
			sharedtest.Missing(t, "Falco samples not available: %v", err)
		}
		if err := l.Add(f, data); err != nil {
			t.Fatal(err)
		}
	}
	res := l.Compile()
	var errs []string
	for _, e := range res.Errors {
		errs = append(errs, e.Error())
	}
	if diff := cmp.Diff([]string(nil), errs); diff != "" {
		t.Errorf("untranslated rules (-want +got):\n%s", diff)
	}
	t.Logf("%d rules translated, %d skipped, %d errors", len(res.Rules), res.Skipped, len(res.Errors))
}
