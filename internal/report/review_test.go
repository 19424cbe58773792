package report_test

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kompas/internal/app"
	"kompas/internal/demo"
	"kompas/internal/gcm"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/facts"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/programmes"
	"kompas/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixedNow is the generation time of every test review.
var fixedNow = time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)

// demoDB is a fresh, migrated database on engine with the demo loaded.
func demoDB(t *testing.T, engine string) *store.DB {
	t.Helper()
	db := storetest.Open(t, engine)
	ctx := context.Background()
	if _, err := app.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := demo.Load(ctx, db, "test-password-123"); err != nil {
		t.Fatalf("demo: %v", err)
	}
	return db
}

func eachDemo(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) { fn(t, demoDB(t, engine)) })
	}
}

func builder(db *store.DB, extra ...facts.Source) *report.Builder {
	cat, err := gcm.Load(context.Background(), db)
	if err != nil {
		panic(err) // the demo database always has its frameworks
	}
	b := app.ReviewBuilder(db, cat)
	b.Sources = append(b.Sources, extra...)
	b.Now = func() time.Time { return fixedNow }
	return b
}

// build makes the demo review as the MFA's draft with the default grouping.
func build(t *testing.T, b *report.Builder) *report.Document {
	t.Helper()
	doc, err := b.Build(context.Background(), report.Spec{Author: "mfa"})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return doc
}

var (
	asOf      = regexp.MustCompile(`as of \d{4}-\d{2}-\d{2}`)
	register  = regexp.MustCompile(`/initiatives/\d+`)
	initiatID = regexp.MustCompile(`initiative-\d+`)
)

// normalise hides what changes from run to run: today's date in the
// register's facts and database ids.
func normalise(b []byte) []byte {
	b = asOf.ReplaceAll(b, []byte("as of DATE"))
	b = register.ReplaceAll(b, []byte("/initiatives/ID"))
	b = initiatID.ReplaceAll(b, []byte("initiative-ID"))
	return b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	got = normalise(got)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run go test ./internal/report -run Golden -update to create it): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %q\nwant: %q\n(run go test ./internal/report -run Golden -update if the change is intended)", name, i+1, g, w)
			}
		}
	}
}

func TestGolden(t *testing.T) {
	eachDemo(t, func(t *testing.T, db *store.DB) {
		doc := build(t, builder(db))
		golden(t, "review.md", report.Markdown(doc))
		golden(t, "review.html", report.HTML(doc))
	})
}

// TestDemoReproducesSeed checks the generated Markdown for the seed
// report's sections and the figures it quotes.
func TestDemoReproducesSeed(t *testing.T) {
	eachDemo(t, func(t *testing.T, db *store.DB) {
		md := string(report.Markdown(build(t, builder(db))))
		headings := []string{
			"## A. Introduction", "### Methodology", "### Migration policy framework",
			"## B. The approach of the Netherlands towards GCM implementation",
			"### Migration research", "### Regular migration", "### Migrant rights", "### Combating smuggling and human trafficking",
			"### Promoting safe and dignified returns and sustainable re-integration", "### International cooperation",
			"### Coverage of the 23 GCM objectives", "## C. Next steps", "## Notes",
		}
		last := -1
		for _, h := range headings {
			i := strings.Index(md, "\n"+h+"\n")
			if i < 0 {
				t.Errorf("no heading %q", h)
				continue
			}
			if i < last {
				t.Errorf("heading %q is out of the seed's order", h)
			}
			last = i
		}
		for _, p := range []string{"Preventing irregular migration", "Improving reception and protection for refugees and displaced persons in the region",
			"Achieving a robust asylum system", "Combating illegal residence and stepping up returns", "Promoting legal migration routes", "Encouraging integration and participation"} {
			if !strings.Contains(md, p) {
				t.Errorf("pillar %q missing", p)
			}
		}
		if !strings.Contains(md, "The six pillars are:") {
			t.Error("the framework does not name its six pillars")
		}
		// Each seed figure, in the section where the seed quotes it.
		figures := []struct{ section, want string }{
			{"### Migration research", "Countries (14):** Afghanistan, Algeria"},
			{"### Migration research", "Partner countries: **14 countries (2021)**"},
			{"### Migrant rights", "179 migrants"},
			{"### Migrant rights", "Senegal"},
			{"### Regular migration", "EUR 100,000,000 (€100 million)"},
			{"### Regular migration", "housing"},
			{"### Promoting safe and dignified returns", "IOM share of voluntary returns with reintegration assistance: **80%**"},
			{"### Promoting safe and dignified returns", "Reintegration partners contracted: **5 partners (April 2022)**"},
			{"### Promoting safe and dignified returns", "**26 countries (April 2022)**"},
			{"### Combating smuggling and human trafficking", "1 memorandum of understanding (November 2021)"},
			{"### Promoting safe and dignified returns", "2021–2023"},
			{"### Promoting safe and dignified returns", "Turkey"},
		}
		for _, f := range figures {
			sec := sectionText(md, f.section)
			if !strings.Contains(sec, f.want) {
				t.Errorf("section %s does not quote %q", f.section, f.want)
			}
		}
		// The coverage table shows the gaps.
		cov := sectionText(md, "### Coverage of the 23 GCM objectives")
		if n := strings.Count(cov, "| no activity recorded |"); n != 11 {
			t.Errorf("coverage table marks %d objectives without activity, want the demo's 11", n)
		}
		if !strings.Contains(cov, "| 8. Save lives and establish coordinated international efforts on missing migrants | no activity recorded |") {
			t.Error("objective 8 is not marked as a gap")
		}
		// Every figure of the register carries a note to its source.
		if !strings.Contains(md, "[**12 initiatives**](/initiatives?objective=21)[^") {
			t.Errorf("objective 21's count has no link and note: %s", sectionText(md, "### Promoting safe and dignified returns"))
		}
		if !regexp.MustCompile(`\[\^\d+\]: Initiatives serving GCM objective 21 \(module programmes, as of \d{4}-\d{2}-\d{2}\) \[/initiatives\?objective=21\]\(/initiatives\?objective=21\)`).MatchString(md) {
			t.Error("no note naming the source of objective 21's count")
		}
	})
}

// sectionText is md from the heading to the next heading of the same or a
// higher level.
func sectionText(md, heading string) string {
	i := strings.Index(md, "\n"+heading)
	if i < 0 {
		return ""
	}
	level := strings.Index(heading, " ")
	rest := md[i+1+len(heading):]
	for _, l := range []string{"\n## ", "\n### "} {
		if len(l)-2 <= level {
			if j := strings.Index(rest, l); j >= 0 {
				rest = rest[:j]
			}
		}
	}
	return rest
}

// requireOffice reports whether missing poppler or LibreOffice must fail.
func requireOffice() bool { return os.Getenv("KOMPAS_REQUIRE_OFFICE") == "1" }

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found: apt-get install poppler-utils libreoffice-writer-nogui (or set nothing and let the test skip)"
		if requireOffice() {
			t.Fatalf("%s (KOMPAS_REQUIRE_OFFICE=1)", msg)
		}
		t.Skip(msg)
	}
	return p
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin := tool(t, "pdftotext")
	dir := t.TempDir()
	in := filepath.Join(dir, "review.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// A line broken after a hyphen ("re-" / "integration") reads as one word.
	text := strings.ReplaceAll(string(out), "-\n", "-")
	return strings.Join(strings.Fields(text), " ")
}

var xmlTag = regexp.MustCompile(`<[^>]+>`)

// docxText is the text of word/document.xml, paragraphs separated by
// spaces.
func docxText(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("docx is not a zip: %v", err)
	}
	for _, f := range zr.File {
		if f.Name != "word/document.xml" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		x, _ := io.ReadAll(rc)
		rc.Close()
		s := strings.ReplaceAll(string(x), "</w:p>", " ")
		s = xmlTag.ReplaceAllString(s, "")
		s = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'", "&quot;", `"`).Replace(s)
		return strings.Join(strings.Fields(s), " ")
	}
	t.Fatal("docx has no word/document.xml")
	return ""
}

// mustHold checks that text holds every objective-group section, the
// coverage table and the seed's figures.
func mustHold(t *testing.T, format, text string) {
	t.Helper()
	for _, want := range []string{
		"A. Introduction", "Methodology", "Migration policy framework", "B. The approach of the Netherlands towards GCM implementation",
		"Migration research", "Regular migration", "Migrant rights", "Combating smuggling and human trafficking",
		"Promoting safe and dignified returns and sustainable re-integration", "International cooperation",
		"Coverage of the 23 GCM objectives", "no activity recorded", "22. Establish mechanisms for the portability of social security",
		"C. Next steps", "179 migrants", "€100 million", "80%", "26 countries", "November 2021", "2021–2023", "Notes",
		"Coverage heat map", "Money by GCM objective",
	} {
		// LibreOffice's PDF export writes some hyphens as soft hyphens,
		// which pdftotext leaves out; compare without them.
		unhyphen := strings.NewReplacer("-", "", "\u00ad", "")
		if !strings.Contains(unhyphen.Replace(text), unhyphen.Replace(want)) {
			t.Errorf("%s does not hold %q", format, want)
		}
	}
}

// TestPDFAndDOCX runs on SQLite only: TestGolden shows both engines give the
// same document, and the LibreOffice conversion takes seconds.
func TestPDFAndDOCX(t *testing.T) {
	db := demoDB(t, "sqlite")
	doc := build(t, builder(db))
	pdf, err := report.PDF(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:16])
	}
	dx, err := report.DOCX(doc)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("docx", func(t *testing.T) {
		text := docxText(t, dx)
		mustHold(t, "DOCX", text)
		zr, _ := zip.NewReader(bytes.NewReader(dx), int64(len(dx)))
		images := 0
		for _, f := range zr.File {
			if strings.HasPrefix(f.Name, "word/media/") && strings.HasSuffix(f.Name, ".png") {
				images++
			}
		}
		if images != 3 {
			t.Errorf("DOCX holds %d chart images, want 3", images)
		}
	})
	t.Run("pdf", func(t *testing.T) {
		mustHold(t, "PDF", pdfText(t, pdf))
	})
	t.Run("docx-in-libreoffice", func(t *testing.T) {
		bin := tool(t, "libreoffice")
		dir := t.TempDir()
		in := filepath.Join(dir, "review.docx")
		if err := os.WriteFile(in, dx, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--headless", "--norestore", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--convert-to", "pdf", "--outdir", dir, in)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("libreoffice --convert-to pdf: %v\n%s", err, out)
		}
		converted, err := os.ReadFile(filepath.Join(dir, "review.pdf"))
		if err != nil {
			t.Fatalf("LibreOffice made no PDF of the DOCX: %v\n%s", err, out)
		}
		mustHold(t, "DOCX opened in LibreOffice", pdfText(t, converted))
	})
}

// peopleSource supplies counts of people on both sides of the threshold and
// far above it, as an operational module would.
type peopleSource struct{}

func (peopleSource) Facts(context.Context) ([]facts.Fact, error) {
	return []facts.Fact{
		{Key: "returns.departed.small", Label: "Assisted departures to Eritrea", Value: 3, Unit: "people", Period: "2025", Module: "returns", Source: "/returns/stats?country=ER", People: true, Objectives: []int{21}},
		{Key: "returns.departed.four", Label: "Assisted departures to Sudan", Value: 4, Unit: "people", Period: "2025", Module: "returns", Source: "/returns/stats?country=SD", People: true, Objectives: []int{21}},
		{Key: "returns.departed.five", Label: "Assisted departures to Ghana", Value: 5, Unit: "people", Period: "2025", Module: "returns", Source: "/returns/stats?country=GH", People: true, Objectives: []int{21}},
		{Key: "returns.departed.large", Label: "Assisted departures to Iraq", Value: 412, Unit: "people", Period: "2025", Module: "returns", Source: "/returns/stats?country=IQ", People: true, Objectives: []int{21}},
		{Key: "returns.share.iom", Label: "Share of voluntary returns with IOM", Value: 80, Unit: "percent", Period: "2025", Module: "returns", Source: "/returns/stats"},
	}, nil
}

// addBoundaryResults records an initiative whose results count people on
// both sides of the threshold (results are suppressed as facts are).
func addBoundaryResults(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	o, err := (&auth.Service{DB: db}).OrgBySlug(ctx, db, "mfa")
	if err != nil {
		t.Fatal(err)
	}
	p := &auth.Principal{Email: "admin@mfa.example", Role: auth.RoleAdmin, OrgID: o.ID, OrgSlug: "mfa"}
	cat, err := gcm.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&programmes.Register{DB: db, GCM: cat}).Create(ctx, p, programmes.Input{
		Title: "Boundary reintegration pilot", Kind: "project", Status: "active", Start: "2025", Objectives: []int{21},
		Results: []programmes.Result{
			{Indicator: "Returnees counselled in Kassala", Value: "4", Unit: "people"},
			{Indicator: "Returnees counselled in Kumasi", Value: "5", Unit: "people"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

var markup = regexp.MustCompile(`<[^>]+>|[*\[\]]`)

// valueAfter is the text that follows "label:" in a rendered review, with
// HTML tags and Markdown emphasis and link brackets taken out, or "" when
// the label is not there.
func valueAfter(text, label string) string {
	_, rest, ok := strings.Cut(text, label+":")
	if !ok {
		return ""
	}
	rest = markup.ReplaceAllString(rest[:min(len(rest), 300)], "")
	return strings.TrimSpace(rest)
}

// TestSuppressionInEveryFormat: in Markdown, HTML, DOCX and PDF a count of
// people below 5 reads "fewer than 5 people" and exactly 5 is shown, for
// the modules' facts and for the register's results.
func TestSuppressionInEveryFormat(t *testing.T) {
	eachDemo(t, func(t *testing.T, db *store.DB) {
		addBoundaryResults(t, db)
		doc := build(t, builder(db, peopleSource{}))
		md := string(report.Markdown(doc))
		html := string(report.HTML(doc))
		pdf, err := report.PDF(doc)
		if err != nil {
			t.Fatal(err)
		}
		dx, err := report.DOCX(doc)
		if err != nil {
			t.Fatal(err)
		}
		texts := map[string]string{"md": md, "html": html, "docx": docxText(t, dx)}
		if _, err := exec.LookPath("pdftotext"); err == nil || requireOffice() {
			texts["pdf"] = pdfText(t, pdf)
		}
		for format, text := range texts {
			for label, want := range map[string]string{
				"Assisted departures to Eritrea":  "fewer than 5 people",
				"Assisted departures to Sudan":    "fewer than 5 people",
				"Assisted departures to Ghana":    "5 people",
				"Assisted departures to Iraq":     "412 people",
				"Returnees counselled in Kassala": "fewer than 5 people",
				"Returnees counselled in Kumasi":  "5 people",
			} {
				if got := valueAfter(text, label); !strings.HasPrefix(got, want) {
					t.Errorf("%s: %s reads %.40q, want %q", format, label, got, want)
				}
			}
			for _, leak := range []string{"3 people", "4 people"} {
				if strings.Contains(strings.ReplaceAll(text, "fewer than 5 people", ""), leak) {
					t.Errorf("%s shows the suppressed count %q", format, leak)
				}
			}
			if !strings.Contains(text, "/returns/stats?country=ER") && format != "pdf" {
				t.Errorf("%s has no source for the suppressed figure", format)
			}
		}
		// The other module's figure without objectives is among the key
		// figures, with its note.
		if !strings.Contains(md, "| Share of voluntary returns with IOM | [80%](/returns/stats) | 2025 | returns[^") {
			t.Errorf("key figures do not carry the returns module's figure:\n%s", sectionText(md, "### Key figures"))
		}
	})
}

func TestEditionTextIsSanitised(t *testing.T) {
	eachDemo(t, func(t *testing.T, db *store.DB) {
		intro := "We *reviewed* the register.\n\n<script>alert('x')</script>\n\n[bad](javascript:alert(1)) and [good](https://example.org/a) <img src=x onerror=alert(1)>\n\n- one\n- two"
		doc, err := builder(db).Build(context.Background(), report.Spec{Author: "mfa", Introduction: intro, NextSteps: "**Continue** the work."})
		if err != nil {
			t.Fatal(err)
		}
		html := string(report.HTML(doc))
		for _, bad := range []string{"<script", "javascript:", "onerror", "<img"} {
			if strings.Contains(html, bad) {
				t.Errorf("HTML holds %q", bad)
			}
		}
		for _, good := range []string{"<em>reviewed</em>", `<a href="https://example.org/a">good</a>`, "<li>one</li>", "<strong>Continue</strong> the work."} {
			if !strings.Contains(html, good) {
				t.Errorf("HTML lacks %q", good)
			}
		}
		md := string(report.Markdown(doc))
		if strings.Contains(md, "<script") || strings.Contains(md, "javascript:") {
			t.Error("Markdown passes raw HTML or a javascript: link through")
		}
	})
}

func TestChartsAreAccessible(t *testing.T) {
	eachDemo(t, func(t *testing.T, db *store.DB) {
		doc := build(t, builder(db))
		if len(doc.Charts) != 3 {
			t.Fatalf("%d charts, want money, pillars and the heat map", len(doc.Charts))
		}
		html := string(report.HTML(doc))
		if strings.Contains(html, "style=") || strings.Contains(html, "<script") || strings.Contains(html, "<style") {
			t.Error("the review's HTML carries inline style or script, which the CSP refuses")
		}
		for _, c := range doc.Charts {
			svg := c.SVG()
			for _, want := range []string{`role="img"`, "<title id=", "<desc id=", `aria-labelledby="` + c.ID + `-title ` + c.ID + `-desc"`, "<text "} {
				if !strings.Contains(svg, want) {
					t.Errorf("%s: SVG lacks %s", c.ID, want)
				}
			}
			b, err := c.PNG()
			if err != nil {
				t.Fatalf("%s: PNG: %v", c.ID, err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: PNG does not decode: %v", c.ID, err)
			}
			if img.Bounds().Dx() < 400 {
				t.Errorf("%s: PNG is %d pixels wide", c.ID, img.Bounds().Dx())
			}
		}
		heat := doc.Charts[2].SVG()
		if !strings.Contains(heat, `class="heat-0"`) || !strings.Contains(heat, `class="heat-4"`) {
			t.Error("heat map does not use its shade classes")
		}
	})
}

// TestPeriodAndGrouping: an edition's period leaves out initiatives that
// ended before it, and a custom grouping makes its own sections.
func TestPeriodAndGrouping(t *testing.T) {
	eachDemo(t, func(t *testing.T, db *store.DB) {
		doc, err := builder(db).Build(context.Background(), report.Spec{Author: "mfa", PeriodFrom: "2020", PeriodTo: "2022",
			Grouping: []report.Group{{Title: "Returns", Objectives: []int{21}}, {Objectives: []int{8}}}})
		if err != nil {
			t.Fatal(err)
		}
		md := string(report.Markdown(doc))
		if !strings.Contains(md, "### Returns\n") || !strings.Contains(md, "### Objective 8: Save lives\n") {
			t.Errorf("custom groups are not sections:\n%s", md[:2000])
		}
		if strings.Contains(md, "Human rights monitoring mission to Niger") {
			t.Error("an initiative of 2019 is in a review of 2020–2022")
		}
		if !strings.Contains(md, "no activity recorded in the register for this period") {
			t.Error("the group without activity does not say so")
		}
		if !strings.Contains(md, "**Period:** 2020–2022") {
			t.Error("the period is not in the front matter")
		}
	})
}

// TestEmptyRegister renders a review with no initiative at all: every
// objective is a gap, and every format still renders.
func TestEmptyRegister(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		doc, err := builder(db).Build(context.Background(), report.Spec{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range report.Formats {
			if _, err := report.Render(doc, f.Name); err != nil {
				t.Errorf("%s: %v", f.Name, err)
			}
		}
		md := string(report.Markdown(doc))
		if n := strings.Count(md, "| no activity recorded |"); n != 23 {
			t.Errorf("%d gaps in an empty register, want 23", n)
		}
		if !strings.Contains(md, "This review is generated by Kompas") {
			t.Error("the method text without an author")
		}
	}, app.Migrations...)
}
