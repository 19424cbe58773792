package report

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"kompas/internal/platform/facts"
)

// humanDate writes 2021 as 2021, 2021-11 as November 2021 and 2021-11-05 as
// 5 November 2021.
func humanDate(s string) string {
	switch len(s) {
	case 7:
		if t, err := time.Parse("2006-01", s); err == nil {
			return t.Format("January 2006")
		}
	case 10:
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t.Format("2 January 2006")
		}
	}
	return s
}

// humanPeriod writes a start and end as 2021–2023, since 2021, until June
// 2022, or "" when neither is known.
func humanPeriod(start, end string) string {
	switch {
	case start == "" && end == "":
		return ""
	case start == "":
		return "until " + humanDate(end)
	case end == "":
		return "since " + humanDate(start)
	case start == end:
		return humanDate(start)
	}
	return humanDate(start) + "–" + humanDate(end)
}

var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}

// shortMoney writes 100000000 EUR as €100 million, 1500000 as €1.5 million,
// and smaller amounts in full (€250,000).
func shortMoney(amount float64, cur string) string {
	sym, ok := currencySymbols[cur]
	if !ok {
		sym = cur + " "
	}
	scaled := func(div float64, word string) string {
		v := strconv.FormatFloat(amount/div, 'f', 1, 64)
		v = strings.TrimSuffix(v, ".0")
		return sym + v + " " + word
	}
	switch {
	case amount >= 1e9:
		return scaled(1e9, "billion")
	case amount >= 1e6:
		return scaled(1e6, "million")
	}
	return sym + facts.Number(amount)
}

// amountOf reads a decimal amount.
func amountOf(s string) float64 {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0
	}
	f, _ := r.Float64()
	return f
}

// fullMoney writes EUR 100,000,000 (€100 million).
func fullMoney(amount, cur string) string {
	out := cur + " " + facts.GroupDigits(amount)
	if v := amountOf(amount); v >= 1e6 {
		out += " (" + shortMoney(v, cur) + ")"
	}
	return out
}

var numberWords = []string{"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}

// numberWord writes small counts as words, as the seed does ("the six
// pillars").
func numberWord(n int) string {
	if n >= 0 && n < len(numberWords) {
		return numberWords[n]
	}
	return strconv.Itoa(n)
}

// plural returns "1 initiative" or "3 initiatives".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return facts.Number(float64(n)) + " " + many
}

// andList joins items as "a, b and c".
func andList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func intsText(ns []int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.Itoa(n)
	}
	return out
}

// objectivesPhrase writes "GCM objective 1" or "GCM objectives 5 and 6".
func objectivesPhrase(ns []int) string {
	if len(ns) == 1 {
		return fmt.Sprintf("GCM objective %d", ns[0])
	}
	return "GCM objectives " + andList(intsText(ns))
}

// isCurrency reports whether a unit is an ISO 4217 code (three capitals).
func isCurrency(unit string) bool {
	if len(unit) != 3 {
		return false
	}
	for _, c := range unit {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// factValue writes a fact's value with its unit: "EUR 100,000,000", "80%",
// "12 initiatives", or "fewer than 5 people" for a suppressed count.
func factValue(f facts.Fact, threshold int) string {
	v := f.Display(threshold)
	switch {
	case isCurrency(f.Unit):
		return f.Unit + " " + v
	case f.Unit == "percent" || f.Unit == "%":
		return v + "%"
	case f.Unit == "":
		return v
	}
	return v + " " + f.Unit
}

// peopleUnits are result units that count people; such results below the
// threshold are suppressed as facts of people are.
var peopleUnits = map[string]bool{"people": true, "persons": true, "person": true, "migrants": true, "victims": true, "returnees": true,
	"refugees": true, "children": true, "women": true, "men": true, "workers": true, "individuals": true, "households": true, "beneficiaries": true}

// resultValue writes a result's value with its unit, suppressing small
// counts of people.
func resultValue(value, unit string, threshold int) string {
	if f, err := strconv.ParseFloat(value, 64); err == nil {
		fact := facts.Fact{Value: f, Unit: unit, People: peopleUnits[strings.ToLower(unit)]}
		return factValue(fact, threshold)
	}
	if unit != "" {
		return value + " " + unit
	}
	return value
}
