// Package config reads palisade.yaml, Palisade's one configuration file, and
// defines Exception, the accepted-risk record that image scanning, admission,
// posture and audit detection all honour.
//
// Decoding is strict: an unknown field, a mistyped value, a duplicate key or a
// second YAML document is an error that names the file, the line and column,
// and the field path, for example
//
//	palisade.yaml:12:5: exceptions[1].expires: cannot parse "next week" as a date (want YYYY-MM-DD or RFC 3339)
//
// Every field has a default (see Default); a file only states what differs.
// Nothing in this package reads the clock or the environment: the time an
// exception is judged against is passed in by the caller.
package config
