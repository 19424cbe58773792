package facts

import "testing"

func TestDisplay(t *testing.T) {
	cases := []struct {
		f    Fact
		want string
	}{
		{Fact{Value: 3, People: true}, "fewer than 5"},
		{Fact{Value: 0, People: true}, "0"},
		{Fact{Value: 1, People: true}, "fewer than 5"},
		{Fact{Value: 4, People: true}, "fewer than 5"},
		{Fact{Value: 4.5, People: true}, "fewer than 5"},
		{Fact{Value: 5, People: true}, "5"},
		{Fact{Value: 6, People: true}, "6"},
		{Fact{Value: 4}, "4"},
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

// TestSuppressedBoundary: exactly the threshold is shown, one below it is
// not, for the default threshold and another.
func TestSuppressedBoundary(t *testing.T) {
	cases := []struct {
		value     float64
		threshold int
		want      bool
	}{
		{4, 0, true}, {5, 0, false},
		{4, DefaultThreshold, true}, {5, DefaultThreshold, false},
		{9, 10, true}, {10, 10, false},
		{2, 3, true}, {3, 3, false},
	}
	for _, c := range cases {
		if got := (Fact{Value: c.value, People: true}).Suppressed(c.threshold); got != c.want {
			t.Errorf("Suppressed(%v people, threshold %d) = %v, want %v", c.value, c.threshold, got, c.want)
		}
		if got := (Fact{Value: c.value}).Suppressed(c.threshold); got {
			t.Errorf("a count of %v that is not of people is suppressed (threshold %d)", c.value, c.threshold)
		}
	}
}
