package facts

import "testing"

func TestDisplay(t *testing.T) {
	cases := []struct {
		f    Fact
		want string
	}{
		{Fact{Value: 3, People: true}, "fewer than 5"},
		{Fact{Value: 0, People: true}, "0"},
		{Fact{Value: 5, People: true}, "5"},
		{Fact{Value: 3}, "3"},
		{Fact{Value: 100000000, Unit: "EUR"}, "100,000,000"},
		{Fact{Value: 1234.5}, "1,234.5"},
		{Fact{Value: -1234567.25}, "-1,234,567.25"},
	}
	for _, c := range cases {
		if got := c.f.Display(0); got != c.want {
			t.Errorf("Display(%+v) = %q, want %q", c.f, got, c.want)
		}
	}
	if got := (Fact{Value: 7, People: true}).Display(10); got != "fewer than 10" {
		t.Errorf("threshold 10: %q", got)
	}
}
