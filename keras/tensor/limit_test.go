package tensor

import (
	"runtime"
	"strings"
	"testing"
)

// endless yields prefix, then pattern repeated without end: a stream that
// never stops, as stdin fed from /dev/zero does.
type endless struct {
	prefix, pattern []byte
	off             int
	served          int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(e.prefix) > 0 {
			k := copy(p[n:], e.prefix)
			e.prefix = e.prefix[k:]
			n += k
			continue
		}
		k := copy(p[n:], e.pattern[e.off:])
		e.off = (e.off + k) % len(e.pattern)
		n += k
	}
	e.served += int64(n)
	return n, nil
}

// TestLimitEndless feeds each reader a stream without end, or one far
// longer than its limit allows, and requires a refusal that comes once
// the limit is passed: with memory bounded as Limit's doc states, and an
// error short enough for one line (it quotes at most a short prefix of
// the offending input).
func TestLimitEndless(t *testing.T) {
	npyHeader := func(shape string) []byte {
		b := npyFile(header("<f4", shape, false), nil)
		return b
	}
	tests := []struct {
		name   string
		format string
		lim    Limit
		prefix string
		repeat string
		want   string
	}{
		// ../shared/hostile/stdin_hdr_1p5e8.npy followed by /dev/zero.
		{"npy header 1.5e8 floats, default limit", "npy", Limit{}, string(npyHeader("(150000000,)")), "\x00", "more than the 16777216 values"},
		{"npy header past the model's use", "npy", Limit{Values: 12 * 1000}, string(npyHeader("(150000000, 4, 3)")), "\x00", "more than the 12000 values"},
		{"csv row of endless values", "csv", Limit{Values: 1 << 20, Row: 12}, "", "1,", "line 1 has more than the 12 values"},
		{"csv row of 1e7 values, unknown row size", "csv", Limit{Values: 1 << 16}, strings.Repeat("1,", 10_000_000) + "1\n", "", "line 1 has more than the 65536 values"},
		{"csv row of 1e7 values, default limit", "csv", Limit{}, strings.Repeat("1,", 10_000_000) + "1\n", "", "line 1 has more than the 1048576 values"},
		{"csv rows without end", "csv", Limit{Values: 3000, Row: 3}, "", "1,2,3\n", "more than 3000 values"},
		{"csv cell without end", "csv", Limit{}, "", "1", "line 1: a value longer than 256 characters"},
		{"csv comment without end", "csv", Limit{Values: 100, Row: 10}, "#", "x", "line 1 has more than the 10 values"},
		{"json number of a million digits", "json", Limit{}, "[" + strings.Repeat("1", 1_000_000) + "]", "", `longer than 64 characters, "1111111111111111111111"…`},
		{"json number without end", "json", Limit{}, "[", "9", "longer than 64 characters"},
		{"json string without end", "json", Limit{}, `["`, "a b ", "longer than 64 characters"},
		{"json row without end", "json", Limit{Values: 1 << 20, Row: 100}, "[[", "1,", "more than 100 numbers"},
		{"json rows without end", "json", Limit{Values: 3000, Row: 3}, "[", "[1,2,3],", "more than 3000 values"},
		{"json whitespace without end", "json", Limit{Values: 1000}, "[1,", " ", "more text than 1000 values can take"},
		{"json nested deep", "json", Limit{}, strings.Repeat("[", 100), "", "nested more than 64 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &endless{prefix: []byte(tt.prefix), pattern: []byte(tt.repeat)}
			if tt.repeat == "" {
				r.pattern = []byte{']'} // a finite document, then a harmless tail
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var err error
			switch tt.format {
			case "npy":
				_, err = tt.lim.ReadNPY(r)
			case "json":
				_, err = tt.lim.ReadJSON(r)
			case "csv":
				_, err = tt.lim.ReadCSV(r)
			}
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if n := len(err.Error()); n > 150 {
				t.Errorf("error of %d characters (the CLI adds its prefix and the file name; a line stays under 200): %s", n, err)
			}
			// Limit's doc: 8 bytes per value allowed, counted thrice in
			// all as the slice grows by doubling; for a CSV line, 150
			// bytes per field plus its text (at most 257 bytes per
			// field), also grown by doubling; fixed buffers.
			alloc := int64(after.TotalAlloc - before.TotalAlloc)
			bound := 3*8*int64(tt.lim.values()) + 4<<20
			if tt.format == "csv" {
				bound += 3 * (150 + maxCell + 1) * int64(tt.lim.csvRow())
			}
			if alloc > bound {
				t.Errorf("allocated %d bytes, more than the bound of %d", alloc, bound)
			}
			t.Logf("%v; read %d bytes, allocated %d KiB", err, r.served, alloc>>10)
		})
	}
}
