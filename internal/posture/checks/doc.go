// Package checks holds Palisade's posture checks, one per file, each opening
// with the benchmark text it implements. All lists them explicitly; there is
// no registration by init. Fixtures for each check are in
// testdata/<check_id>/{pass,fail}/*.yaml and every check runs against its own
// in TestFixtures.
package checks
