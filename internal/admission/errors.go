package admission

import "errors"

// undecided is an error a policy returns when it cannot decide; Text is
// safe to show a user (it names the image and what failed, not internals).
type undecided struct {
	Text string
	Err  error
}

func (e *undecided) Error() string { return e.Text + ": " + e.Err.Error() }
func (e *undecided) Unwrap() error { return e.Err }

// userText returns the user-facing part of a policy error.
func userText(err error) string {
	var u *undecided
	if errors.As(err, &u) {
		return u.Text
	}
	return "internal error"
}
