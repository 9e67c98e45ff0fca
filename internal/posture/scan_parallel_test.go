package posture

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/kube"
)

// TestEvalAll checks that parallel evaluation returns each input with
// results, in input order, the same as one goroutine, for sizes around the
// batch size.
func TestEvalAll(t *testing.T) {
	eval := func(in *Input) []Result {
		n, _ := strconv.Atoi(in.Object.Ref.Name)
		out := make([]Result, n%3) // some inputs have no result
		for i := range out {
			out[i] = Result{Message: in.Object.Ref.Name + "/" + strconv.Itoa(i)}
		}
		return out
	}
	for _, n := range []int{0, 1, evalBatch - 1, evalBatch, evalBatch + 1, 5*evalBatch + 7} {
		ins := make([]Input, n)
		for i := range ins {
			ins[i] = Input{Object: &kube.Object{Ref: kube.Ref{Name: strconv.Itoa(i)}}}
		}
		one, err := evalAll(t.Context(), eval, ins, 1)
		if err != nil {
			t.Fatal(err)
		}
		want, inputs := flatHits(one)
		if inputs != n-(n+2)/3 || len(want) != 0 && want[0] != "1/0" { // inputs 0, 3, 6… have none
			t.Errorf("%d inputs: %d with results (first %q), want %d", n, inputs, want, n-(n+2)/3)
		}
		for _, workers := range []int{2, 4, 16} {
			got, err := evalAll(t.Context(), eval, ins, workers)
			if err != nil {
				t.Fatal(err)
			}
			msgs, _ := flatHits(got)
			if diff := cmp.Diff(want, msgs); diff != "" {
				t.Errorf("%d inputs, %d workers (-one goroutine +parallel):\n%s", n, workers, diff)
			}
		}
	}
}

// flatHits lists the results' messages in order, with how many inputs
// had results.
func flatHits(parts [][]hit) (msgs []string, inputs int) {
	for _, p := range parts {
		inputs += len(p)
		for _, x := range p {
			for _, r := range x.rs {
				msgs = append(msgs, r.Message)
			}
		}
	}
	return msgs, inputs
}

func TestEvalAllCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ins := make([]Input, 10*evalBatch)
	for _, workers := range []int{1, 4} {
		if _, err := evalAll(ctx, func(*Input) []Result { return nil }, ins, workers); err == nil {
			t.Errorf("%d workers: no error after cancel", workers)
		}
	}
}
