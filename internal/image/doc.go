// Package image opens container images (registry references, OCI layouts,
// docker-archive tarballs and unpacked root filesystems) and walks their
// layers as a stream.
//
// A walk reads every layer's tar exactly once and never unpacks anything to
// disk. It offers each file of each layer to a visitor, saying which layer
// added it, whether it survives in the squashed filesystem and, when it does
// not, which upper layer deleted or replaced it. Packages are judged on the
// squashed view; secrets are judged on every layer (DESIGN.md, "Layers").
package image
