// Package check collects every field error of one submission, so a form or
// an API call is answered once with all that needs correcting, never in two
// rounds. Services use it to validate their input:
//
//	var c check.Fields
//	c.Text("title", &in.Title, true, 200)
//	c.Date("visited_on", &in.VisitedOn, true, today)
//	return c.Err() // nil, or fault.Invalid with every field at fault
package check

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"kompas/internal/platform/fault"
)

// MinYear is the earliest year a date field accepts.
const MinYear = 1900

// Fields collects field errors. The zero value is ready to use.
type Fields struct{ list []fault.FieldError }

// Bad records that field breaks a rule; msg is a format for the message.
func (c *Fields) Bad(field, msg string, args ...any) {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	c.list = append(c.list, fault.FieldError{Field: field, Message: msg})
}

// Add records errors found elsewhere (a nested checker, a parser).
func (c *Fields) Add(fe ...fault.FieldError) { c.list = append(c.list, fe...) }

// OK reports whether nothing was found wrong so far.
func (c *Fields) OK() bool { return len(c.list) == 0 }

// Has reports whether field (or a field below it, "field[2].x") is at fault.
func (c *Fields) Has(field string) bool {
	for _, f := range c.list {
		if f.Field == field || strings.HasPrefix(f.Field, field+"[") || strings.HasPrefix(f.Field, field+".") {
			return true
		}
	}
	return false
}

// List is what was found, in the order it was found.
func (c *Fields) List() []fault.FieldError { return c.list }

// Err is nil when every field is right, else fault.Invalid with them all.
func (c *Fields) Err() error {
	if len(c.list) == 0 {
		return nil
	}
	return fault.Invalid(c.list...)
}

// Text trims *s and checks it is text of at most max characters (and there
// at all when required).
func (c *Fields) Text(field string, s *string, required bool, max int) {
	*s = strings.TrimSpace(*s)
	switch {
	case !utf8.ValidString(*s):
		c.Bad(field, "must be valid UTF-8 text")
	case required && *s == "":
		c.Bad(field, "is required")
	case utf8.RuneCountInString(*s) > max:
		c.Bad(field, "must be at most %d characters (it has %d)", max, utf8.RuneCountInString(*s))
	case strings.ContainsRune(*s, 0):
		c.Bad(field, "must not contain NUL characters")
	}
}

// Code lower-cases and trims *s and checks it is one of list.
func (c *Fields) Code(field string, s *string, list []string, required bool) {
	*s = strings.ToLower(strings.TrimSpace(*s))
	if *s == "" && !required {
		return
	}
	if !slices.Contains(list, *s) {
		c.Bad(field, "must be one of %s", strings.Join(list, ", "))
	}
}

// Codes checks a list of codes and returns them in list order without
// repeats; each bad one is named by its index ("field[2]").
func (c *Fields) Codes(field string, in []string, list []string) []string {
	if len(in) > len(list)+5 {
		c.Bad(field, "lists too many values")
		return nil
	}
	seen := map[string]bool{}
	for i, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(list, s) {
			c.Bad(fmt.Sprintf("%s[%d]", field, i), "%q is not one of %s", truncate(s, 30), strings.Join(list, ", "))
			continue
		}
		seen[s] = true
	}
	out := []string{}
	for _, s := range list {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out
}

// Date trims *s and checks it is a date written YYYY-MM-DD from MinYear on;
// notAfter, when not empty, is the latest date accepted (today, for things
// that have happened).
func (c *Fields) Date(field string, s *string, required bool, notAfter string) {
	*s = strings.TrimSpace(*s)
	if *s == "" {
		if required {
			c.Bad(field, "is required (YYYY-MM-DD)")
		}
		return
	}
	t, err := time.Parse("2006-01-02", *s)
	if err != nil || len(*s) != 10 {
		c.Bad(field, "must be a date as YYYY-MM-DD")
		return
	}
	if t.Year() < MinYear || t.Year() > 2200 {
		c.Bad(field, "must be a date from %d on", MinYear)
		return
	}
	if notAfter != "" && *s > notAfter {
		c.Bad(field, "must not be in the future (after %s)", notAfter)
	}
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
