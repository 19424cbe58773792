package programmes

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

// demoInputs reads the demo data set's initiatives as JSON objects without
// their demo key, the way a client would send them.
func demoInputs(tb testing.TB) [][]byte {
	tb.Helper()
	b, err := os.ReadFile("../demo/data/initiatives.json")
	if err != nil {
		tb.Fatalf("demo data: %v", err)
	}
	var items []map[string]any
	if err := json.Unmarshal(b, &items); err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, it := range items {
		delete(it, "key")
		buf, err := json.Marshal(it)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, buf)
	}
	return out
}

// badJSONSeeds are the API's bad-input cases as raw bodies.
var badJSONSeeds = []string{
	`{"title":`,
	`{"title":"x","kind":"project","status":"active","colour":"red"}`,
	`{"title":"` + strings.Repeat("t", 201) + `","kind":"project","status":"active"}`,
	`{"title":"x","kind":"project","status":"active","countries":["XX","nl"]}`,
	`{"title":"x","kind":"project","status":"active","objectives":[0,24]}`,
	`{"title":"x","kind":"project","status":"active","objectives":"1,2"}`,
	`{"title":"x","kind":"project","status":"active","principles":["k"],"pillars":[7]}`,
	`{"title":"x","kind":"project","status":"active","budget":{"amount":"-5","currency":"EURO"}}`,
	`{"title":"x","kind":"project","status":"active","budget":{"amount":1.234,"currency":"EUR"}}`,
	`{"title":"x","kind":"project","status":"active","budget":{"amount":"abc","currency":"EUR"}}`,
	`{"title":"x","kind":"project","status":"active","start":"2022","end":"2021"}`,
	`{"title":"x","kind":"project","status":"active","start":"2021-13"}`,
	`{"title":"x","kind":"project","status":"active","partners":[{"org":"nobody","role":"funder"},{"org":"iom","role":"sponsor"}]}`,
	`{"title":"x","kind":"project","status":"active","partners":[{"org":"iom","role":"funder"},{"org":"iom","role":"funder"}]}`,
	`{"title":"x","kind":"project","status":"active","results":[{"indicator":"","value":5}]}`,
	`{"title":"x","kind":"project","status":"active","results":[{"indicator":"i","value":true}]}`,
	`{"title":"x","kind":"project","status":"active","sources":[{"title":"s","url":"javascript:alert(1)"}]}`,
	`{"title":"x\u0000","kind":"project","status":"active","regions":["a;b"," "]}`,
	`{"title":"x","kind":"project","status":"active","version":99999999999}`,
	`[]`, `null`, `""`, `{}`, `{"title":"x"} {}`,
}

func FuzzInitiativeJSON(f *testing.F) {
	for _, b := range demoInputs(f) {
		f.Add(b)
	}
	for _, s := range badJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in Input
		if err := web.DecodeJSONFrom(bytes.NewReader(body), &in); err != nil {
			var we *fault.Error
			if !errors.As(err, &we) || web.Status(we.Kind) != 400 {
				t.Fatalf("decode error is not a web 400: %#v", err)
			}
			return
		}
		c, errs := validate(in, defaultPillars)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Field == "" || e.Message == "" {
					t.Fatalf("field error without field or message: %+v", e)
				}
			}
			return
		}
		// The normal form is a fixed point of validate.
		again, errs := validate(cloneInput(c.in), defaultPillars)
		if len(errs) > 0 {
			t.Fatalf("normal form does not validate: %v\n%+v", errs, c.in)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("validating the normal form changed it:\n got %+v\nwant %+v", again, c)
		}
		// And it survives the JSON the API writes and reads back.
		out, err := json.Marshal(c.in)
		if err != nil {
			t.Fatalf("marshal normal form: %v", err)
		}
		var back Input
		if err := web.DecodeJSONFrom(bytes.NewReader(out), &back); err != nil {
			t.Fatalf("decode own output %s: %v", out, err)
		}
		third, errs := validate(back, defaultPillars)
		if len(errs) > 0 || !reflect.DeepEqual(third, c) {
			t.Fatalf("JSON round trip changed the input: %v\n got %+v\nwant %+v", errs, third, c)
		}
	})
}

// csvSeeds are import files: the demo data as the export writes it, and the
// bad files of the CSV tests.
func csvSeeds(tb testing.TB) [][]byte {
	var items []*Initiative
	for i, b := range demoInputs(tb) {
		var in Input
		if err := json.Unmarshal(b, &in); err != nil {
			tb.Fatal(err)
		}
		it := &Initiative{ID: int64(i + 1), Input: in}
		it.Version = 1
		items = append(items, it)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, items); err != nil {
		tb.Fatal(err)
	}
	header := strings.Join(csvHeader, ",") + "\n"
	return [][]byte{
		buf.Bytes(),
		[]byte(header),
		[]byte("\ufeff" + header + ",,Title,,project,active\n"),
		[]byte("\ufeff\"id\",\"title\",\"kind\",\"status\"\n,x,law,active\n"),
		[]byte("title,kind,status,countries,objectives,partners,budget_amount,budget_currency,results,sources\n" +
			"Good,law,active,NL; NE,7; 21,iom:implementer,1000.50,EUR,\"[{\"\"indicator\"\":\"\"i\"\",\"\"value\"\":5}]\",[]\n" +
			"Bad,law,active,XX,seven,iom,-1,EURO,{,\"[{\"\"title\"\":1}]\"\n"),
		[]byte("title,kind,status,summary\n'=cmd|' /C calc'!A0,law,active,'+1\n"),
		[]byte("title,kind,status\n\"a\"x,law,active\n"),
		[]byte("title,kind,status\n\"unterminated,law,active\n"),
		[]byte("title,title,kind,status\n"),
		[]byte("title,kind\n"),
		[]byte("nonsense\n"),
		[]byte(""),
		[]byte("id,version,title,kind,status\n-1,0,x,law,active\n99999999999999999999,x,y,law,active\n"),
	}
}

func FuzzCSVImport(f *testing.F) {
	for _, b := range csvSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, errs, err := ParseCSV(bytes.NewReader(data))
		if err != nil {
			var we *fault.Error
			if !errors.As(err, &we) || web.Status(we.Kind) < 400 || web.Status(we.Kind) >= 500 {
				t.Fatalf("ParseCSV error is not a web 4xx: %#v", err)
			}
			return
		}
		for _, e := range errs {
			if !strings.HasPrefix(e.Field, "line ") || e.Message == "" {
				t.Fatalf("row error does not name its line: %+v", e)
			}
		}
		for _, row := range rows {
			if row.Line < 2 {
				t.Fatalf("row on line %d", row.Line)
			}
			c, verrs := validate(row.Input, defaultPillars)
			if len(verrs) > 0 {
				continue
			}
			// What the export writes for a valid row, the import reads back
			// as the same initiative.
			c.in.Version = 1
			it := &Initiative{ID: 1, Input: cloneInput(c.in)}
			var buf bytes.Buffer
			if err := WriteCSV(&buf, []*Initiative{it}); err != nil {
				t.Fatalf("export: %v", err)
			}
			rows2, errs2, err := ParseCSV(bytes.NewReader(buf.Bytes()))
			if err != nil || len(errs2) > 0 || len(rows2) != 1 {
				t.Fatalf("re-import of %q: %v %v %d rows", buf.String(), err, errs2, len(rows2))
			}
			c2, verrs := validate(rows2[0].Input, defaultPillars)
			if len(verrs) > 0 || !reflect.DeepEqual(c2, c) {
				t.Fatalf("export/import changed the row: %v\nCSV %q\n got %+v\nwant %+v", verrs, buf.String(), c2.in, c.in)
			}
		}
	})
}
