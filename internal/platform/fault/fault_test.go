package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"kompas/internal/platform/fault"
)

// TestKindsMatchTheirSentinels: a wrapped fault with its own detail still
// is its sentinel, and no other.
func TestKindsMatchTheirSentinels(t *testing.T) {
	for _, tc := range []struct {
		err  error
		is   error
		kind fault.Kind
	}{
		{fault.NotFound("Case"), fault.ErrNotFound, fault.KindNotFound},
		{fault.Forbidden("A police officer may not."), fault.ErrForbidden, fault.KindForbidden},
		{fault.Conflict("It changed."), fault.ErrConflict, fault.KindConflict},
		{fault.Invalid(fault.FieldError{Field: "title", Message: "is required"}), fault.Invalid(), fault.KindInvalid},
		{fault.Malformed("Not JSON."), fault.Malformed(""), fault.KindMalformed},
	} {
		wrapped := fmt.Errorf("module: action: %w", tc.err)
		if !errors.Is(wrapped, tc.is) {
			t.Errorf("%v is not its sentinel", tc.err)
		}
		if fault.KindOf(wrapped) != tc.kind {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, fault.KindOf(wrapped), tc.kind)
		}
		for _, other := range []error{fault.ErrNotFound, fault.ErrForbidden, fault.ErrConflict} {
			if other != tc.is && errors.Is(wrapped, other) {
				t.Errorf("%v also matches %v", tc.err, other)
			}
		}
	}
	if fault.KindOf(errors.New("disk on fire")) != fault.KindInternal || fault.As(errors.New("x")) != nil {
		t.Error("a plain error is not internal")
	}
}

// TestInvalidCapsItsFields: a hostile body cannot make the answer larger
// than itself: at most MaxFieldErrors fields and a line saying how many more.
func TestInvalidCapsItsFields(t *testing.T) {
	var fields []fault.FieldError
	for i := 0; i < fault.MaxFieldErrors+7; i++ {
		fields = append(fields, fault.FieldError{Field: fmt.Sprintf("f%d", i), Message: "bad"})
	}
	e := fault.Invalid(fields...)
	if len(e.Fields) != fault.MaxFieldErrors+1 || e.Fields[fault.MaxFieldErrors].Message != "and 7 more problems not listed" {
		t.Errorf("fields: %d, last %+v", len(e.Fields), e.Fields[len(e.Fields)-1])
	}
	if exact := fault.Invalid(fields[:fault.MaxFieldErrors]...); len(exact.Fields) != fault.MaxFieldErrors {
		t.Errorf("exactly the limit: %d fields", len(exact.Fields))
	}
}
