// Package facts is how a module supplies figures to the GCM review and other
// read-outs: each fact carries its value, unit and period, the module that
// computed it and a link to the live page or query that produced it, so
// every figure in a generated document can be traced back. Counts of people
// below a threshold are suppressed when shown.
package facts

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// DefaultThreshold is the smallest count of people shown as a number.
const DefaultThreshold = 5

// Fact is one figure.
type Fact struct {
	Key        string  `json:"key"`        // stable id, e.g. "programmes.initiatives.objective.21"
	Label      string  `json:"label"`      // what it counts, in words
	Value      float64 `json:"value"`      // the figure
	Unit       string  `json:"unit"`       // "initiatives", "EUR", "people", "percent" …
	Period     string  `json:"period"`     // "2019–2022", "2021", "as of 2026-11-29"
	Module     string  `json:"module"`     // the module that computed it
	Source     string  `json:"source"`     // link to the live page or API query
	People     bool    `json:"people"`     // a count of people: suppressed below the threshold
	Objectives []int   `json:"objectives"` // GCM objectives it belongs to, if any
}

// Source is implemented by every module that supplies facts.
type Source interface {
	Facts(ctx context.Context) ([]Fact, error)
}

// Suppressed reports whether f must not be shown as a number.
func (f Fact) Suppressed(threshold int) bool {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	return f.People && f.Value > 0 && f.Value < float64(threshold)
}

// Display renders the value for people: thousands grouped, at most two
// decimals, and "fewer than N" for a suppressed count of people.
func (f Fact) Display(threshold int) string {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if f.Suppressed(threshold) {
		return fmt.Sprintf("fewer than %d", threshold)
	}
	return Number(f.Value)
}

// Number formats v with grouped thousands and at most two decimals.
func Number(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return GroupDigits(s)
}

// GroupDigits groups the thousands of a decimal number written in digits:
// "-100000000.5" becomes "-100,000,000.5".
func GroupDigits(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if hasFrac {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}

// Collect gathers the facts of every source, in order.
func Collect(ctx context.Context, sources ...Source) ([]Fact, error) {
	var all []Fact
	for _, s := range sources {
		fs, err := s.Facts(ctx)
		if err != nil {
			return nil, fmt.Errorf("facts: %w", err)
		}
		all = append(all, fs...)
	}
	return all, nil
}
