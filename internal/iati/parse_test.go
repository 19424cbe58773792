package iati

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// referenceDir is the folder of IATI reference files copied into testdata
// (their README gives source and licence), so a clone anywhere runs the
// tests that read them.
const referenceDir = "testdata"

func parseAll(t testing.TB, data []byte, opts Options) ([]*Mapped, []*ActivityError, error) {
	t.Helper()
	var ms []*Mapped
	var aes []*ActivityError
	err := NewParser(opts).Parse(bytes.NewReader(data), func(a *Activity) error {
		m, err := Map(a)
		if err != nil {
			var ae *ActivityError
			if !errors.As(err, &ae) {
				t.Fatalf("Map returned %T %v", err, err)
			}
			aes = append(aes, ae)
			return nil
		}
		ms = append(ms, m)
		return nil
	})
	return ms, aes, err
}

func TestMapReferenceFiles(t *testing.T) {
	dir := referenceDir
	t.Run("annotated standard example", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(dir, "activity-standard-example-annotated.xml"))
		if err != nil {
			t.Fatal(err)
		}
		ms, aes, err := parseAll(t, data, Options{})
		if err != nil || len(aes) > 0 || len(ms) != 1 {
			t.Fatalf("parse: %v, %v, %d activities", err, aes, len(ms))
		}
		m := ms[0]
		in := m.Input
		// What the file says (lines 10-234 of the example).
		check(t, "identifier", m.Identifier, "AA-AAA-123456789-ABC123")
		check(t, "line", m.Line, 8)
		check(t, "title (the narrative without xml:lang, the activity being English)", in.Title, "Activity title")
		if !strings.HasPrefix(in.Summary, "General activity description text.") || !strings.Contains(in.Summary, "Objectives: Objectives for the activity") ||
			!strings.Contains(in.Summary, "Target groups: Statement of groups") {
			t.Errorf("summary = %q", in.Summary)
		}
		check(t, "status (code 2, implementation)", in.Status, "active")
		check(t, "start (actual start, type 2)", in.Start, "2012-04-28")
		check(t, "end (planned end, type 3)", in.End, "2015-12-31")
		check(t, "countries", strings.Join(in.Countries, ","), "AF,AG")
		check(t, "regions (DAC 489 named; A1 of vocabulary 99 as its code)", strings.Join(in.Regions, "|"), "South America, regional|A1")
		check(t, "budget", fmt.Sprint(in.Budget.Amount, " ", in.Budget.Currency), "3000 EUR")
		check(t, "kind", in.Kind, "project")
		check(t, "results (the only transaction is incoming funds, not a disbursement)", len(in.Results), 0)
		var roles []string
		for _, p := range m.Partners {
			roles = append(roles, p.Org.Ref+"="+p.Role+" ("+p.Org.Name+")")
		}
		check(t, "partners", strings.Join(roles, "; "),
			"BB-BBB-123456789=funder (Name of Agency B); CC-CCC-123456789=lead (Name of Agency C); AA-AAA-123456789=co-funder (Name of Agency A)")
		if m.Lead == nil || m.Lead.Ref != "CC-CCC-123456789" {
			t.Errorf("lead = %+v, want the accountable organisation CC-CCC-123456789", m.Lead)
		}
		if len(m.Suggestions) != 0 {
			t.Errorf("suggestions for an activity about nothing in particular: %+v", m.Suggestions)
		}
		if len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "line 292") || !strings.Contains(m.Notes[0], "document-link") {
			t.Errorf("notes = %q, want the unusable document link of line 292", m.Notes)
		}
	})
	t.Run("d-portal IOM activity", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(dir, "diterator-activity-01.xml"))
		if err != nil {
			t.Fatal(err)
		}
		ms, aes, err := parseAll(t, data, Options{})
		if err != nil || len(aes) > 0 || len(ms) != 1 {
			t.Fatalf("parse: %v, %v, %d activities", err, aes, len(ms))
		}
		m := ms[0]
		in := m.Input
		check(t, "identifier", m.Identifier, "XM-DAC-00000-0000")
		check(t, "title", in.Title, "Test activity title")
		check(t, "summary", in.Summary, "Test activity description")
		check(t, "status", in.Status, "active")
		check(t, "start (actual)", in.Start, "2020-03-16")
		check(t, "end (actual)", in.End, "2021-03-15")
		check(t, "countries", strings.Join(in.Countries, ","), "SO")
		check(t, "regions", strings.Join(in.Regions, ","), "South of Sahara, regional")
		check(t, "budget", fmt.Sprint(in.Budget.Amount, " ", in.Budget.Currency), "1459753.72 USD")
		check(t, "results (an incoming commitment is no disbursement)", len(in.Results), 0)
		var roles []string
		for _, p := range m.Partners {
			roles = append(roles, p.Org.Ref+"="+p.Role)
		}
		check(t, "partners", strings.Join(roles, "; "), "XM-DAC-701-2=funder; XM-DAC-47066=lead")
		check(t, "lead", m.Lead.Name, "International Organization for Migration (IOM)")
		if len(m.Suggestions) != 1 || m.Suggestions[0].Objective != 7 {
			t.Fatalf("suggestions = %+v, want objective 7 for DAC 72010 and internally displaced persons", m.Suggestions)
		}
		check(t, "reasons", strings.Join(m.Suggestions[0].Reasons, "; "),
			`DAC sector 72010 (Material relief assistance and services); keyword "internally displaced" in the sector name`)
	})
}

func check[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

const okActivity = `<iati-activity default-currency="EUR">
  <iati-identifier>XX-1</iati-identifier>
  <title><narrative>One</narrative></title>
  <activity-status code="2"/>
 </iati-activity>`

func TestFileErrors(t *testing.T) {
	deep := "<iati-activities version=\"2.03\">\n" + okActivity + "\n<iati-activity><iati-identifier>XX-2</iati-identifier>\n" +
		strings.Repeat("<x>", 70) + strings.Repeat("</x>", 70) + "</iati-activity></iati-activities>"
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<iati-activities version="2.03"><iati-activity><title><narrative>&lol3;</narrative></title></iati-activity></iati-activities>`
	cases := []struct {
		name       string
		data       string
		opts       Options
		line       int
		msg        string
		activities int // decoded before the error (-1: any)
	}{
		{"malformed XML", "<iati-activities version=\"2.03\">\n" + okActivity + "\n<iati-activity>\n<title>\n</iati-activity></iati-activities>", Options{}, 9, "malformed", 1},
		{"unclosed file", "<iati-activities version=\"2.03\">\n" + okActivity + "\n<iati-activity>\n<title>", Options{}, 8, "ends", 1},
		{"entity-expansion bomb", laughs, Options{}, 2, "DTD", 0},
		{"DTD", "<?xml version=\"1.0\"?>\n\n<!DOCTYPE iati-activities SYSTEM \"http://example.org/iati.dtd\">\n<iati-activities/>", Options{}, 3, "DTD", 0},
		{"undeclared entity", "<iati-activities>\n" + okActivity + "\n<iati-activity><title><narrative>&xxe;</narrative></title></iati-activity></iati-activities>", Options{}, 7, "entity", 1},
		{"declared windows-1252 with a byte it does not define", "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<iati-activities>\n" + okActivity + "\n<iati-activity><title><narrative>caf\x81</narrative></title></iati-activity></iati-activities>", Options{}, 8, "Windows-1252", 1},
		{"unsupported declared encoding", "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<iati-activities/>", Options{}, 1, "Shift_JIS", 0},
		{"UTF-16 with a byte-order mark", "\xff\xfe<\x00i\x00", Options{}, 1, "UTF-16", 0},
		{"UTF-16 without one", "<\x00?\x00x\x00m\x00l\x00", Options{}, 1, "UTF-16", 0},
		{"Latin-1 bytes in a UTF-8 file", "<iati-activities>\n" + okActivity + "\n<iati-activity><title><narrative>caf\xe9</narrative></title></iati-activity></iati-activities>", Options{}, 7, "UTF-8", 1},
		{"nesting too deep", deep, Options{}, 8, "nested deeper than the limit of 64", 1},
		{"file too large", "<iati-activities>\n" + strings.Repeat(okActivity+"\n", 50) + "</iati-activities>", Options{MaxBytes: 2000}, 0, "larger than the limit of 2000 bytes", -1},
		{"activity too large", "<iati-activities>\n" + okActivity + "\n<iati-activity><title><narrative>" + strings.Repeat("x", 40000) + "</narrative></title></iati-activity></iati-activities>", Options{MaxActivityBytes: 16 << 10}, 0, "larger than the limit of 16 KiB", 1},
		{"wrong root", "<?xml version=\"1.0\"?>\n<activities/>", Options{}, 2, "root element is <activities>", 0},
		{"IATI 1.x", "<iati-activities version=\"1.05\">\n</iati-activities>", Options{}, 1, "version 1.05", 0},
		{"empty", "", Options{}, 1, "empty", 0},
		{"no root", "<?xml version=\"1.0\"?>\n<!-- nothing -->\n", Options{}, 3, "no root element", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := NewParser(c.opts)
			n := 0
			err := p.Parse(strings.NewReader(c.data), func(a *Activity) error { n++; return nil })
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %T %v, want a *FileError", err, err)
			}
			if !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("message %q does not say %q", fe.Msg, c.msg)
			}
			if c.line > 0 && fe.Line != c.line {
				t.Errorf("line = %d, want %d (%s)", fe.Line, c.line, fe.Msg)
			}
			if fe.Line == 0 {
				t.Errorf("no line in %q", fe.Error())
			}
			if c.activities >= 0 && n != c.activities {
				t.Errorf("%d activities before the error, want %d", n, c.activities)
			}
			if c.name == "file too large" && !errors.Is(err, ErrTooLarge) {
				t.Errorf("not ErrTooLarge: %v", err)
			}
		})
	}
}

func TestEncodingsRead(t *testing.T) {
	for _, c := range []struct{ name, data, title string }{
		{"UTF-8 with a byte-order mark", "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?><iati-activity><iati-identifier>A</iati-identifier><title><narrative>Café</narrative></title><activity-status code=\"1\"/></iati-activity>", "Café"},
		{"ISO-8859-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><iati-activity><iati-identifier>A</iati-identifier><title><narrative>Caf\xe9</narrative></title><activity-status code=\"1\"/></iati-activity>", "Café"},
		{"Windows-1252", "<?xml version=\"1.0\" encoding=\"windows-1252\"?><iati-activity><iati-identifier>A</iati-identifier><title><narrative>\x93Caf\xe9\x94</narrative></title><activity-status code=\"1\"/></iati-activity>", "“Café”"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ms, aes, err := parseAll(t, []byte(c.data), Options{})
			if err != nil || len(aes) > 0 || len(ms) != 1 {
				t.Fatalf("%v %v %d", err, aes, len(ms))
			}
			check(t, "title", ms[0].Input.Title, c.title)
		})
	}
}

func TestActivityErrors(t *testing.T) {
	file := `<?xml version="1.0"?>
<iati-activities version="2.03">
 <iati-activity default-currency="EUR">
  <iati-identifier>XX-1</iati-identifier>
  <title><narrative>Fine</narrative></title>
  <activity-status code="2"/>
  <recipient-country code="NL"/>
 </iati-activity>
 <iati-activity>
  <iati-identifier>XX-2</iati-identifier>
  <title><narrative>Bad country</narrative></title>
  <activity-status code="2"/>
  <recipient-country code="NL"/>
  <recipient-country code="XQ"/>
 </iati-activity>
 <iati-activity>
  <iati-identifier>XX-3</iati-identifier>
  <title><narrative>Many problems</narrative></title>
  <activity-status code="9"/>
  <participating-org role="7" ref="A"/>
  <activity-date type="1" iso-date="2020-13-45"/>
  <budget><period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/><value currency="EURO">12</value></budget>
  <budget><period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/><value>1.2.3</value></budget>
  <tag vocabulary="99" vocabulary-uri="https://undocs.org/A/RES/73/195" code="24"/>
 </iati-activity>
 <iati-activity>
  <title><narrative>No identifier</narrative></title>
  <activity-status code="2"/>
 </iati-activity>
</iati-activities>`
	ms, aes, err := parseAll(t, []byte(file), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Identifier != "XX-1" {
		t.Fatalf("imported %d activities, want XX-1 alone", len(ms))
	}
	if len(aes) != 3 {
		t.Fatalf("%d activity errors, want 3: %v", len(aes), aes)
	}
	check(t, "bad country", aes[0].Error(), `line 14: <recipient-country>: "XQ" is not an ISO 3166-1 alpha-2 country code`)
	check(t, "identifier named", aes[0].Identifier, "XX-2")
	want := []string{
		`line 19: <activity-status>: "9" is not an IATI activity status code`,
		`line 21: <activity-date>: iso-date "2020-13-45" is not a date`,
		`line 24: <tag>: "24" is not a GCM objective`,
		`line 22: <budget>: "EURO" is not an ISO 4217 currency code`,
		`line 23: <budget>: the value has no currency and the activity no default-currency`,
		`line 20: <participating-org>: "7" is not an IATI organisation role`,
	}
	for _, w := range want {
		if !strings.Contains(aes[1].Error(), w) {
			t.Errorf("%q\ndoes not say %q", aes[1].Error(), w)
		}
	}
	check(t, "missing identifier", aes[2].Error(), "line 26: <iati-identifier>: every activity needs an iati-identifier")
}

func TestBudgetsAndTransactions(t *testing.T) {
	file := `<iati-activity default-currency="USD">
  <iati-identifier>XX-1</iati-identifier>
  <title><narrative>Money</narrative></title>
  <activity-status code="4"/>
  <budget type="1"><period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/><value>100.125</value></budget>
  <budget type="1"><period-start iso-date="2021-01-01"/><period-end iso-date="2021-12-31"/><value>200</value></budget>
  <budget type="1"><period-start iso-date="2021-01-01"/><period-end iso-date="2021-12-31"/><value currency="EUR">50</value></budget>
  <budget type="2"><period-start iso-date="2021-01-01"/><period-end iso-date="2021-12-31"/><value>999</value></budget>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2020-05-01"/><value>10.5</value></transaction>
  <transaction><transaction-type code="4"/><transaction-date iso-date="2021-02-01"/><value>20</value></transaction>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2020-06-01"/><value currency="EUR">7</value></transaction>
  <transaction><transaction-type code="2"/><transaction-date iso-date="2020-06-01"/><value>1000</value></transaction>
</iati-activity>`
	ms, aes, err := parseAll(t, []byte(file), Options{})
	if err != nil || len(aes) > 0 {
		t.Fatal(err, aes)
	}
	in := ms[0].Input
	check(t, "status (4 closed)", in.Status, "completed")
	check(t, "budget: the originals in the first currency", fmt.Sprint(in.Budget.Amount, " ", in.Budget.Currency), "300.13 USD")
	if len(in.Results) != 2 {
		t.Fatalf("results %+v", in.Results)
	}
	check(t, "disbursed USD", fmt.Sprint(in.Results[0].Indicator, " ", in.Results[0].Value, " ", in.Results[0].Unit, " ", in.Results[0].Date), "Disbursed 30.5 USD 2021-02-01")
	check(t, "disbursed EUR", fmt.Sprint(in.Results[1].Value, " ", in.Results[1].Unit), "7 EUR")
	notes := strings.Join(ms[0].Notes, "; ")
	if !strings.Contains(notes, "several currencies") || !strings.Contains(notes, "left out: EUR") || !strings.Contains(notes, "rounded") {
		t.Errorf("notes = %q", notes)
	}
}

func TestClassifier(t *testing.T) {
	cases := []struct {
		name    string
		sectors []sectorCode
		text    string
		want    []int
	}{
		{"15190 alone", []sectorCode{{"1", "15190"}}, "Strengthening institutions", []int{23}},
		{"15190 with return and data", []sectorCode{{"", "15190"}}, "Assisted voluntary return and reintegration; migration data and statistics", []int{1, 21, 23}},
		{"trafficking in persons without a code", nil, "Combating trafficking in persons in the Sahel", []int{10}},
		{"15180 needs trafficking", []sectorCode{{"1", "15180"}}, "Ending violence against women", nil},
		{"15180 with trafficking", []sectorCode{{"1", "15180"}}, "Ending violence against women, including trafficking of women", []int{10}},
		{"drug trafficking is no migration", nil, "Police cooperation against drug trafficking and arms smuggling", nil},
		{"smuggling of migrants", nil, "Prosecuting the smuggling of migrants", []int{9}},
		{"labour migration", nil, "Fair recruitment for labour migration corridors", []int{5, 6}},
		{"border in a migration context", nil, "Border management for refugees", []int{11}},
		{"border without one", nil, "Cross-border trade corridors", nil},
		{"diaspora and remittances", nil, "Diaspora investment and remittances", []int{19, 20}},
		{"3-digit codes do not count", []sectorCode{{"2", "151"}}, "Public sector policy", nil},
		{"remittance code", []sectorCode{{"1", "24050"}}, "Lowering transfer costs", []int{20}},
		{"IDPs", []sectorCode{{"1", "72010"}}, "Relief for IDPs", []int{7}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sugs := classify(classifyInput{sectors: c.sectors, texts: []namedText{{"title", c.text}}})
			var got []int
			for _, s := range sugs {
				got = append(got, s.Objective)
				if len(s.Reasons) == 0 {
					t.Errorf("objective %d has no reason", s.Objective)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("objectives %v, want %v (%+v)", got, c.want, sugs)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "500MiB": 500 << 20, "500MB": 500 << 20, "64k": 64 << 10, "1234": 1234} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "1.5GiB", "0"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

// FuzzParse feeds the parser anything: it must never panic, and it must
// end with activities, a FileError or nothing, within its limits.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"activity-standard-example-annotated.xml", "diterator-activity-01.xml"} {
		b, err := os.ReadFile(filepath.Join(referenceDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(okActivity))
	f.Add([]byte("<iati-activities>" + okActivity + okActivity + "</iati-activities>"))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><iati-activities/>`))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"windows-1252\"?><iati-activity><title><narrative>\x81</narrative></title></iati-activity>"))
	f.Add([]byte(`<iati-activity xmlns:kompas="urn:kompas:iati:1"><kompas:kind>law</kompas:kind><kompas:result indicator="i" value="1"/><activity-date type="2" iso-date="2020-01-01" kompas:date="2020"/></iati-activity>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := NewParser(Options{MaxBytes: 1 << 20, MaxDepth: 32, MaxActivityBytes: 64 << 10})
		n := 0
		err := p.Parse(bytes.NewReader(data), func(a *Activity) error {
			n++
			m, err := Map(a)
			if err == nil && m.Identifier == "" {
				t.Fatalf("an activity without identifier was mapped")
			}
			if err != nil {
				var ae *ActivityError
				if !errors.As(err, &ae) || len(ae.Problems) == 0 {
					t.Fatalf("Map: %T %v", err, err)
				}
			}
			return nil
		})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse: %T %v", err, err)
			}
		}
		if p.BytesRead() > 1<<20+8192 {
			t.Fatalf("read %d bytes past the limit", p.BytesRead())
		}
	})
}
