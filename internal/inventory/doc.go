// Package inventory finds the packages installed in an image: OS packages
// (dpkg, apk, rpm) and language packages (Go binaries, npm, PyPI, Maven).
//
// Extractors are small plugins (subpackages of this one) that each
// recognise a file by its path and size and parse it from a size-bounded
// reader. Scan walks an image once, offers every file of the squashed
// filesystem to every extractor, detects the distribution from os-release
// and returns packages with purls, file locations and the layer that
// provides them. Per-file failures travel in the result; nothing is
// dropped silently.
package inventory
