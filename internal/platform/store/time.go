package store

import "time"

// TimeLayout is how every timestamp is stored, on both engines, as TEXT:
// UTC with a fixed six-digit fraction, so that text order is time order and
// the audit hash sees the same bytes it was computed over.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime renders t for storage.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads a stored timestamp.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeLayout, s) }

// Now is the current time at the precision stored.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
