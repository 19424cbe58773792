package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"kompas/internal/report"
)

// cmdReport writes the GCM review: the current draft generated from live
// data, or an edition (its frozen files when published).
func cmdReport(ctx context.Context, args []string, e *env) error {
	fs := flags("report", "report --format html|md|pdf|docx --out FILE [--edition ID] [--db URL] [--data DIR]", e)
	var d dbFlags
	d.add(fs)
	format := fs.String("format", "html", "html, md, pdf or docx")
	out := fs.String("out", "", "file to write (- for standard output)")
	editionID := fs.Int64("edition", 0, "edition number; the current draft with the default grouping when 0")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	f, ok := report.LookupFormat(*format)
	if !ok {
		return usageError{fmt.Sprintf("--format %q: use %s", *format, report.FormatNames())}
	}
	if *out == "" {
		return usageError{"--out is required (a file, or - for standard output)"}
	}
	if *editionID < 0 {
		return usageError{"--edition must be a positive number"}
	}
	services, err := d.services(ctx)
	if err != nil {
		return err
	}
	defer services.DB.Close()
	b, eds := services.Review, services.Editions
	var file *report.File
	if *editionID > 0 {
		ed, err := eds.Get(ctx, *editionID)
		if err != nil {
			return fmt.Errorf("edition %d: %w", *editionID, err)
		}
		if file, err = eds.File(ctx, ed, f.Name); err != nil {
			return err
		}
	} else {
		doc, err := b.Build(ctx, report.Spec{})
		if err != nil {
			return err
		}
		if file, err = report.RenderFile(doc, f); err != nil {
			return err
		}
	}
	if *out == "-" {
		_, err := e.stdout.Write(file.Content)
		return err
	}
	if err := os.WriteFile(*out, file.Content, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(file.Content)
	state := "draft, generated now"
	if file.Frozen {
		state = "published, frozen"
	}
	fmt.Fprintf(e.stdout, "wrote %s (%s, %d bytes, %s) sha256 %s\n", *out, f.Name, len(file.Content), state, hex.EncodeToString(sum[:]))
	return nil
}
