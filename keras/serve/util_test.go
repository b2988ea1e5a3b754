package serve

import (
	"bytes"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func bytesContains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
