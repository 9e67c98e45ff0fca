// Package finding is the one result type every Palisade capability produces:
// an image vulnerability, a leaked secret, a posture misconfiguration, an
// admission denial and an audit alert are all Findings, so that the writers,
// the store, exceptions and the security graph handle them the same way.
package finding

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-sec/palisade/internal/parallel"
)

// SchemaVersion is the version of the JSON document the JSON writer emits.
// Bump the major part on any incompatible change to Finding or Report.
// 1.1 added coverage and scores, 1.2 exposedWorkloads, 1.3 the evaluated
// counts of scores and controls that are not evaluated (no longer passed),
// 1.4 scores as means over rules and controls (Scores), same fields.
const SchemaVersion = "1.4"

// Finding is one problem found in one resource.
type Finding struct {
	// ID is stable across runs: a hash of the rule, the resource identity and
	// the key evidence (see ComputeID). Line numbers are left out on purpose,
	// so that editing an unrelated part of a file does not rename a finding.
	ID          string     `json:"id"`
	RuleID      string     `json:"ruleId"`
	Title       string     `json:"title"`
	Severity    Severity   `json:"severity"`
	Category    string     `json:"category,omitempty"`
	Resource    Resource   `json:"resource"`
	Message     string     `json:"message"`
	Evidence    []Evidence `json:"evidence,omitempty"`
	Remediation string     `json:"remediation,omitempty"`
	References  []string   `json:"references,omitempty"`
	Controls    []Control  `json:"controls,omitempty"`
	Status      Status     `json:"status"`
	// Exception is the exception that applied when Status is Excepted.
	Exception *ExceptionRef `json:"exception,omitempty"`
}

// Resource names what a finding is about. Only the fields that apply are set:
// a manifest finding has File and Line, a live-cluster finding has Cluster,
// an image finding has Image and ImageDigest.
type Resource struct {
	Cluster     string `json:"cluster,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Kind        string `json:"kind,omitempty"`
	Name        string `json:"name,omitempty"`
	Container   string `json:"container,omitempty"`
	Image       string `json:"image,omitempty"`
	ImageDigest string `json:"imageDigest,omitempty"`
	File        string `json:"file,omitempty"`
	Line        int    `json:"line,omitempty"`
	Column      int    `json:"column,omitempty"`
}

// Evidence is one observed fact behind a finding. Key evidence takes part in
// the finding ID: for a vulnerability the package and advisory, for a secret
// the path, for a misconfiguration the field.
type Evidence struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Key   bool   `json:"key,omitempty"`
}

// Control is a compliance control a finding maps to.
type Control struct {
	Framework string `json:"framework"` // "CIS-K8s-1.9", "NSA-CISA", "MITRE-ATT&CK"
	ID        string `json:"id"`        // "5.2.2", "T1611"
}

// Status says whether a finding still needs attention.
type Status string

// The statuses a finding can have.
const (
	StatusOpen     Status = "open"
	StatusExcepted Status = "excepted"
)

// ExceptionRef records which exception suppressed a finding, so a report can
// show who accepted the risk, why, and until when.
type ExceptionRef struct {
	ID      string    `json:"id"`
	Owner   string    `json:"owner"`
	Reason  string    `json:"reason"`
	Expires time.Time `json:"expires,omitzero"`
}

// ComputeID returns the stable ID of f: the same rule on the same resource
// with the same key evidence yields the same ID on every run and machine.
func ComputeID(f *Finding) string {
	// One buffer, hashed at once: the same bytes as writing the parts one
	// by one, without a hash.Hash interface (whose Write makes every part
	// escape) — posture scans compute an ID per finding, 100,000s of them.
	var arr [512]byte
	buf := arr[:0]
	r := f.Resource
	image := r.ImageDigest
	if image == "" {
		// Without a digest the reference is the best identity there is.
		image = r.Image
	}
	for _, s := range [...]string{f.RuleID, r.Cluster, r.Namespace, r.Kind, r.Name, r.Container, image, r.File} {
		// Length-prefix each part so that ("ab","c") and ("a","bc") differ.
		buf = append(strconv.AppendInt(buf, int64(len(s)), 10), ':')
		buf = append(buf, s...)
	}
	var keys []string
	for _, e := range f.Evidence {
		if e.Key {
			keys = append(keys, e.Name+"="+e.Value)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		buf = append(strconv.AppendInt(buf, int64(len(k)), 10), ':')
		buf = append(buf, k...)
	}
	// "PAL-" and the first 8 bytes of the hash in upper-case hex.
	const upperHex = "0123456789ABCDEF"
	sum := sha256.Sum256(buf)
	id := [4 + 16]byte{'P', 'A', 'L', '-'}
	for i, b := range sum[:8] {
		id[4+2*i], id[5+2*i] = upperHex[b>>4], upperHex[b&0x0f]
	}
	return string(id[:])
}

// Normalize fills the ID (when empty) and the status (when empty) of each
// finding and sorts them: by severity, most severe first, then by rule,
// resource and ID, so that output is deterministic.
func Normalize(fs []Finding) {
	// A posture scan of a large cluster has 100,000s of findings: their
	// IDs (a SHA-256 each) and sort keys are computed on every core.
	parallel.For(len(fs), minPerWorker, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if fs[i].ID == "" {
				fs[i].ID = ComputeID(&fs[i])
			}
			if fs[i].Status == "" {
				fs[i].Status = StatusOpen
			}
		}
	})
	if len(fs) < 2 {
		return
	}
	compare := findingOrder(fs)
	if inOrder(len(fs), compare) {
		return
	}
	// Sort positions, then move each finding once along the cycles of the
	// permutation: order[k] is the position of the finding that goes to k.
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	sortStable(order, compare)
	for start := range order {
		if order[start] < 0 || order[start] == start {
			continue
		}
		held := fs[start]
		k := start
		for {
			from := order[k]
			order[k] = -1
			if from == start {
				fs[k] = held
				break
			}
			fs[k] = fs[from]
			k = from
		}
	}
}

// findingOrder returns the comparison of fs[i] and fs[j] that Normalize
// sorts by. Each resource key is built once, not twice per comparison: with
// 100,000 findings building keys was most of the time the sort took.
func findingOrder(fs []Finding) func(i, j int) int {
	keys := make([]string, len(fs))
	parallel.For(len(fs), minPerWorker, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			keys[i] = fs[i].Resource.Key()
		}
	})
	return func(i, j int) int {
		return compareFindings(&fs[i], &fs[j], func() int { return strings.Compare(keys[i], keys[j]) })
	}
}

// compareFindings orders a and b; compareKeys compares their resource keys
// (called only when severity and rule are the same).
func compareFindings(a, b *Finding, compareKeys func() int) int {
	if a.Severity != b.Severity {
		return cmp.Compare(b.Severity, a.Severity)
	}
	if c := strings.Compare(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	return cmp.Or(
		compareKeys(),
		cmp.Compare(a.Resource.Line, b.Resource.Line),
		strings.Compare(a.ID, b.ID),
	)
}

// minPerWorker is the least work for which the loops over a report's
// findings use another goroutine.
const minPerWorker = 4096

// sortStable sorts s, positions of findings, stably by compare: ties go
// by position, which makes the order total, so the faster unstable sort
// gives the stable result. Large slices are sorted in halves on two cores,
// then merged (ties from the first half first).
func sortStable(s []int, compare func(a, b int) int) {
	byPosition := func(a, b int) int { return cmp.Or(compare(a, b), cmp.Compare(a, b)) }
	n := len(s)
	if n < 1<<14 || runtime.GOMAXPROCS(0) < 2 {
		slices.SortFunc(s, byPosition)
		return
	}
	left, right := s[:n/2], s[n/2:]
	var wg sync.WaitGroup
	wg.Go(func() { slices.SortFunc(left, byPosition) })
	slices.SortFunc(right, byPosition)
	wg.Wait()
	merged := make([]int, 0, n)
	for len(left) > 0 && len(right) > 0 {
		if compare(right[0], left[0]) < 0 {
			merged, right = append(merged, right[0]), right[1:]
		} else {
			merged, left = append(merged, left[0]), left[1:]
		}
	}
	merged = append(append(merged, left...), right...)
	copy(s, merged)
}

// inOrder reports whether the n elements compare sorts are in order.
func inOrder(n int, compare func(i, j int) int) bool {
	for i := 1; i < n; i++ {
		if compare(i-1, i) > 0 {
			return false
		}
	}
	return true
}

// normalized reports whether Normalize would leave fs as it is: every ID
// and status filled in and the findings in order. Writers then render fs
// itself instead of a normalized copy.
func normalized(fs []Finding) bool {
	// Every writer asks this of a report with 100,000s of findings: the
	// ranges are checked on every core, each pair of neighbours once.
	var disorder atomic.Bool
	parallel.For(len(fs), minPerWorker, func(lo, hi int) {
		// Keys are built on the stack, two at a time: checking the order
		// of a report that is in order (every report NewReport built)
		// allocates nothing.
		var bufA, bufB [256]byte
		for i := lo; i < hi && !disorder.Load(); i++ {
			if fs[i].ID == "" || fs[i].Status == "" {
				disorder.Store(true)
				return
			}
			if i == 0 {
				continue
			}
			a, b := &fs[i-1], &fs[i]
			compareKeys := func() int { return bytes.Compare(a.Resource.appendKey(bufA[:0]), b.Resource.appendKey(bufB[:0])) }
			if compareFindings(a, b, compareKeys) > 0 {
				disorder.Store(true)
				return
			}
		}
	})
	return !disorder.Load()
}

// Key returns a readable identity for the resource: "cluster/ns/Kind/name",
// the image, or the file, whichever applies.
func (r Resource) Key() string {
	var buf [256]byte
	return string(r.appendKey(buf[:0]))
}

// appendKey appends Key to dst.
func (r *Resource) appendKey(dst []byte) []byte {
	if r.File == "" {
		return r.appendObjectKey(dst)
	}
	dst = append(dst, r.File...)
	start := len(dst)
	dst = r.appendObjectKey(append(dst, ' '))
	if len(dst) == start+1 {
		dst = dst[:start] // no object key: the file alone
	}
	return dst
}

// objectKey is Key without the file: "cluster/ns/Kind/name", the image, or
// "" when the resource names neither an object nor an image.
func (r Resource) objectKey() string {
	var buf [256]byte
	return string(r.appendObjectKey(buf[:0]))
}

// appendObjectKey appends objectKey to dst.
func (r *Resource) appendObjectKey(dst []byte) []byte {
	start := len(dst)
	for _, s := range [...]string{r.Cluster, r.Namespace, r.Kind, r.Name} {
		if s != "" {
			if len(dst) > start {
				dst = append(dst, '/')
			}
			dst = append(dst, s...)
		}
	}
	if r.Container != "" {
		if len(dst) > start {
			dst = append(dst, '/')
		}
		dst = append(append(dst, "container:"...), r.Container...)
	}
	switch {
	case len(dst) > start:
	case r.Image != "":
		dst = append(dst, r.Image...)
	case r.ImageDigest != "":
		dst = append(dst, r.ImageDigest...)
	}
	return dst
}

// Open reports whether f still needs attention (it is not excepted).
func (f *Finding) Open() bool { return f.Status != StatusExcepted }
