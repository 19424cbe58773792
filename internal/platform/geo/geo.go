// Package geo validates and names countries by their ISO 3166-1 alpha-2
// code, from the maintained github.com/biter777/countries list, so no module
// keeps a hand-typed subset.
package geo

import (
	"sort"
	"strings"

	"github.com/biter777/countries"
)

// Country is a code and its English name.
type Country struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

var (
	byCode = map[string]string{}
	all    []Country
)

// withdrawn are codes the countries list still carries although ISO deleted
// them (Netherlands Antilles 2010, Yugoslavia 2003); their successors are in
// the list. XK (Kosovo, user-assigned but used by the EU and IOM) is kept.
var withdrawn = map[string]bool{"AN": true, "YU": true}

// renamed gives the current ISO 3166-1 English short name where the list
// still carries an old one.
var renamed = map[string]string{
	"LY": "Libya",
	"SZ": "Eswatini",
	"CV": "Cabo Verde",
	"PS": "Palestine, State of",
}

func init() {
	for _, c := range countries.All() {
		code := c.Alpha2()
		if len(code) != 2 || code != strings.ToUpper(code) || withdrawn[code] {
			continue
		}
		name := c.String()
		if n, ok := renamed[code]; ok {
			name = n
		}
		byCode[code] = name
		all = append(all, Country{Code: code, Name: name})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
}

// Valid reports whether code is an assigned ISO 3166-1 alpha-2 code, in
// upper case.
func Valid(code string) bool {
	_, ok := byCode[code]
	return ok
}

// Name returns the country's English name, or the code when unknown.
func Name(code string) string {
	if n, ok := byCode[code]; ok {
		return n
	}
	return code
}

// All lists every country by name.
func All() []Country { return append([]Country(nil), all...) }
