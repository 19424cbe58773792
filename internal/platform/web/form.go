package web

import (
	"kompas/internal/platform/fault"
	"net/http"
	"strconv"
	"strings"
)

// PathID reads the path wildcard name as a positive whole number; anything
// else is a 404 naming what, so that /cases/abc is as absent as /cases/0.
func PathID(r *http.Request, name, what string) (int64, error) {
	s := r.PathValue(name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strings.HasPrefix(s, "+") {
		return 0, fault.NotFound(what)
	}
	return id, nil
}

// FormPage is the one way to write a form. Show draws the page holding the
// form: from nothing (f.Values empty), or again after a submission went
// wrong (f carries what was typed, every field error, any conflict, and the
// status to answer with). Submit reads f.Values, calls its service and
// answers, usually with Server.Redirect.
//
// When Submit returns invalid input (422) or a conflict (409), the adapter
// calls Show with the values as typed and the errors, so that no form
// answers in two rounds and nothing typed is lost; any other error is
// answered as usual.
type FormPage struct {
	Show   func(w http.ResponseWriter, r *http.Request, f *Form) error
	Submit func(w http.ResponseWriter, r *http.Request, f *Form) error
}

// Form registers GET path (the form) and POST path (its submission) under
// one declaration of access.
func (s *Server) Form(path string, op Op, fp FormPage) {
	s.Page("GET "+path, op, func(w http.ResponseWriter, r *http.Request) error {
		return fp.Show(w, r, &Form{Status: http.StatusOK})
	})
	s.Page("POST "+path, op, s.SubmitForm(fp))
}

// SubmitForm is the POST half of Form, for a form whose page is drawn
// under another address (a list page with a form on it).
func (s *Server) SubmitForm(fp FormPage) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := r.ParseForm(); err != nil {
			if tooLarge := BodyTooLarge(r); tooLarge != nil {
				return tooLarge
			}
			return fault.Malformed("The form could not be read.")
		}
		f := &Form{Values: r.PostForm, Status: http.StatusOK}
		err := fp.Submit(w, r, f)
		if err == nil {
			return nil
		}
		e := fault.As(err)
		if e == nil {
			return err
		}
		switch e.Kind {
		case fault.KindInvalid:
			f.Errors = append(f.Errors, e.Fields...)
			if len(f.Errors) == 0 {
				f.Errors = []fault.FieldError{{Message: e.Detail}}
			}
		case fault.KindConflict, fault.KindTooLarge:
			f.Conflict = e.Detail
			f.Errors = append(f.Errors, e.Fields...)
		default:
			return err
		}
		f.Status = Status(e.Kind)
		return fp.Show(w, r, f)
	}
}
