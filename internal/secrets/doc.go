// Package secrets finds leaked credentials and sensitive files in container
// images and single files.
//
// Two kinds of Rule exist. Content rules (cloud keys, GitHub/GitLab/Slack/
// Stripe tokens, private keys, JWTs, high-entropy values assigned to
// secret-like names) run line by line over text files: a cheap keyword
// prefilter decides whether a rule's regular expression runs at all, and an
// optional validator (checksum, entropy, JSON decoding, placeholder list)
// rejects look-alikes. File rules judge a file by its path and, where a path
// alone says too little, a content check (.npmrc with a token, a docker
// config with auths, a kubeconfig with user credentials, …).
//
// Secrets are judged on every layer (DESIGN.md, "Layers"): a file that a
// later layer deletes or replaces is still in the image for anyone who pulls
// it, so it is reported with the layer that added it and the layer that
// removed it. Findings never carry a secret: only a redacted form (at most
// four leading characters and the length) and a Fingerprint, a truncated
// SHA-256 of rule and secret, which an Allowlist can name.
package secrets
