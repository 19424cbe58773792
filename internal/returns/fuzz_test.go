package returns

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"kompas/internal/platform/geo"
	"kompas/internal/platform/web"
)

// FuzzCreateDecoder feeds arbitrary bytes to the create endpoint's decoder
// and validation: they must never panic, must answer 400 or 422 (or accept),
// and what they accept must hold the invariants the database relies on.
func FuzzCreateDecoder(f *testing.F) {
	for _, seed := range []string{
		`{"country_of_return":"IQ","counselling_org":"ngo-one","programme":"national","migrants":[{"given_name":"A","family_name":"B","birth_date":"1990-01-01","sex":"female","nationality":"IQ"}]}`,
		`{"country_of_return":"iq","counselling_org":" ngo-one ","programme":"national","migrants":[{"given_name":"A","family_name":"B","birth_date":"1990-01-01","sex":"MALE","nationality":"iq","vulnerabilities":["medical_needs","medical_needs"]},{"given_name":"C","family_name":"B","birth_date":"2010-02-30","sex":"x","nationality":"SY","relationship":"child"}]}`,
		`{"migrants":[{}]}`,
		`{"migrants":null}`,
		`{"country_of_return":1}`,
		`{"religion":"none"}`,
		`[]`, `null`, `{`, `{}{}`, "\x00", `{"migrants":[{"given_name":"\u0000"}]}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var in CreateInput
		err := web.DecodeJSONFrom(bytes.NewReader(body), &in)
		if err != nil {
			if e := web.AsError(err); web.Status(e.Kind) != http.StatusBadRequest {
				t.Fatalf("decode error is a %d: %v", web.Status(e.Kind), err)
			}
			return
		}
		err = validateCreate(&in, now)
		if err != nil {
			if e := web.AsError(err); web.Status(e.Kind) != http.StatusUnprocessableEntity || len(e.Fields) == 0 {
				t.Fatalf("validation error is a %d with %d fields: %v", web.Status(e.Kind), len(e.Fields), err)
			}
			return
		}
		if !geo.Valid(in.CountryOfReturn) || in.CounsellingOrg == "" || in.Programme == "" {
			t.Fatalf("accepted %+v", in)
		}
		if len(in.Migrants) == 0 || len(in.Migrants) > maxMigrants || in.Migrants[0].Relationship != "principal" {
			t.Fatalf("accepted people %+v", in.Migrants)
		}
		for _, m := range in.Migrants {
			if !geo.Valid(m.Nationality) || !oneOf(m.Sex, Sexes) || m.BirthDate > today(now) || len(m.BirthDate) != 10 ||
				m.GivenName == "" || strings.ContainsRune(m.GivenName+m.FamilyName, 0) {
				t.Fatalf("accepted person %+v", m)
			}
			for _, v := range m.Vulnerabilities {
				if !oneOf(v, Vulnerabilities) {
					t.Fatalf("accepted vulnerability %q", v)
				}
			}
		}
	})
}
