package policy

import (
	"context"
	"strconv"
	"testing"

	"github.com/palisade-sec/palisade/internal/kube"
)

// objectOf decodes one manifest the way `palisade policy test` does.
func objectOf(t testing.TB, manifest string) map[string]any {
	t.Helper()
	objs, err := kube.Decode(context.Background(), "test.yaml", []byte(manifest), kube.Limits{})
	if err != nil || len(objs) != 1 {
		t.Fatalf("decode manifest: %d objects, %v", len(objs), err)
	}
	m, err := ObjectValue(objs[0])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func builtinByID(t testing.TB) map[string]*Policy {
	t.Helper()
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*Policy{}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out
}

var ctxCanceled = context.Canceled

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func itoa(i int) string { return strconv.Itoa(i) }
