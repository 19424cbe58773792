package report

import (
	"fmt"
	"strings"
)

// Format is an output format of the review.
type Format struct {
	Name        string // html, md, pdf, docx
	ContentType string
	Ext         string
}

// Formats lists the output formats in the order pages offer them.
var Formats = []Format{
	{"html", "text/html; charset=utf-8", "html"},
	{"md", "text/markdown; charset=utf-8", "md"},
	{"pdf", "application/pdf", "pdf"},
	{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
}

// FormatNames is "html, md, pdf or docx".
func FormatNames() string {
	var names []string
	for _, f := range Formats {
		names = append(names, f.Name)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// LookupFormat finds a format by name.
func LookupFormat(name string) (Format, bool) {
	for _, f := range Formats {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// Render renders d in the named format.
func Render(d *Document, format string) ([]byte, error) {
	switch format {
	case "html":
		return HTML(d), nil
	case "md":
		return Markdown(d), nil
	case "pdf":
		return PDF(d)
	case "docx":
		return DOCX(d)
	}
	return nil, fmt.Errorf("report: unknown format %q (want %s)", format, FormatNames())
}
