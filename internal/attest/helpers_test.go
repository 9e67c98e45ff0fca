package attest

import (
	"io"
	"log"
	"time"
)

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

var fixedTime = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func mustKey() []byte {
	priv, _, err := GenerateKey()
	if err != nil {
		panic(err)
	}
	return priv
}
