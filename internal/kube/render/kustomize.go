package render

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/palisade-sec/palisade/internal/kube"
)

// Kustomize builds the kustomization in dir as `kustomize build` would,
// with its default, safe options: files only from inside dir's tree, no
// exec or container plugins. Remote bases need network access and fail
// offline with kustomize's own error.
func Kustomize(ctx context.Context, dir string, lim kube.Limits) ([]*kube.Object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build: %w", err)
	}
	data, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize output: %w", err)
	}
	return kube.Decode(ctx, dir+" (kustomize build)", data, lim)
}

func joinErrs(errs []error) error { return errors.Join(errs...) }
