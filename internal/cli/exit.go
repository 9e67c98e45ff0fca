package cli

import (
	"errors"
	"fmt"
)

// Exit codes, the contract CI pipelines script against.
const (
	ExitOK        = 0 // success, no policy violation
	ExitViolation = 1 // the command worked and found a policy violation
	ExitUsage     = 2 // bad flags, arguments, configuration or input
	ExitInternal  = 3 // Palisade itself failed
)

const exitCodesHelp = `Exit codes:
  0  success, no policy violation
  1  policy violation found (a finding at or above the gate)
  2  usage or input error (bad flag, argument, config file or input data)
  3  internal error`

// ExitError carries the exit code an error should end the process with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks err as the user's to fix: exit code 2.
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitUsage, Err: err}
}

// errViolation ends a command that ran fine but found a policy violation;
// the findings themselves were already written.
var errViolation = &ExitError{Code: ExitViolation}

// ExitCode maps an error returned by a command to the process exit code:
// typed errors keep their code, anything else is an internal error.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitInternal
}
