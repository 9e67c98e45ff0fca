// Package bench holds benchmarks that print ratios against baselines measured in the same run.
package bench
