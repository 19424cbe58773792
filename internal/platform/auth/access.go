package auth

import (
	"context"
	"fmt"
	"strings"

	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

// Admit lets the web adapter check a route's rule before its handler runs:
// the caller must be signed in and hold one of the rule's roles. The
// record's relation, which only the data can tell, is checked where the
// record is read (Check).
func (r Rule) Admit(ctx context.Context) error {
	p := FromContext(ctx)
	if p == nil {
		return fault.ErrUnauthenticated
	}
	if !r.hasRole(p.Role) {
		return fault.Forbidden(fmt.Sprintf("A %s of %s may not %s.", p.Role.Label(), p.OrgName, r.Action))
	}
	return nil
}

// Describe names the roles the rule admits, for the API document.
func (r Rule) Describe() string {
	labels := make([]string, len(r.Roles))
	for i, role := range r.Roles {
		labels[i] = role.Label()
	}
	s := strings.Join(labels, ", ")
	if len(r.Relations) > 0 {
		s += " (each only for records related to their organisation)"
	}
	return s
}

func (r Rule) hasRole(role Role) bool {
	for _, x := range r.Roles {
		if x == role {
			return true
		}
	}
	return false
}

// SignedIn admits every signed-in user, whatever their role.
var SignedIn web.Access = signedIn{}

type signedIn struct{}

func (signedIn) Admit(ctx context.Context) error {
	if FromContext(ctx) == nil {
		return fault.ErrUnauthenticated
	}
	return nil
}

func (signedIn) Describe() string { return "any signed-in user" }

// AnyOf admits a caller whom any of rules admits, for a route that several
// kinds of party use, each under its own rule and relation; action says
// what the route does, for the refusal. It is for routes only: check the
// record against each rule itself.
func AnyOf(action string, rules ...Rule) web.Access {
	return anyOf{action: action, rules: rules}
}

type anyOf struct {
	action string
	rules  []Rule
}

func (a anyOf) Admit(ctx context.Context) error {
	p := FromContext(ctx)
	if p == nil {
		return fault.ErrUnauthenticated
	}
	for _, r := range a.rules {
		if r.hasRole(p.Role) {
			return nil
		}
	}
	return fault.Forbidden(fmt.Sprintf("A %s of %s may not %s.", p.Role.Label(), p.OrgName, a.action))
}

func (a anyOf) Describe() string {
	var parts []string
	for _, r := range a.rules {
		parts = append(parts, r.Describe())
	}
	return strings.Join(parts, "; ")
}

// Caller is the signed-in principal of a route that declared an access
// rule: the adapter has admitted them, so it is never nil there.
func Caller(ctx context.Context) *Principal {
	p := FromContext(ctx)
	if p == nil {
		// Only a route registered as public can get here without a
		// caller, and such a route must not ask for one.
		panic("auth: Caller on a request without a signed-in user (is the route public?)")
	}
	return p
}
