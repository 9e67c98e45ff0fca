// Package internal holds Palisade's packages; this file only anchors the
// repository-wide tests of package layering and documentation.
package internal
