package report

import (
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
)

// Access rules: policy officers and administrators create; changing and
// publishing needs a policy officer of the author organisation or an
// administrator; reading needs only a sign-in.
var (
	ruleCreate = auth.Rule{Action: "create review editions", Roles: []auth.Role{auth.RolePolicyOfficer, auth.RoleAdmin}}
	ruleEdit   = auth.Rule{Action: "change or publish review editions of another organisation", Roles: []auth.Role{auth.RolePolicyOfficer}, Relations: []auth.Relation{auth.RelOwner}}
	ruleAdmin  = auth.Rule{Action: "change any review edition", Roles: []auth.Role{auth.RoleAdmin}}
	ruleAuthor = auth.Rule{Action: "write editions in the name of another organisation", Roles: []auth.Role{auth.RoleAdmin}}
	ruleRead   = auth.SignedIn
	// ruleChange admits to the routes that change or publish an edition;
	// canEdit then decides for the one at hand.
	ruleChange = auth.AnyOf("change or publish review editions", ruleEdit, ruleAdmin)
)

// canEdit applies the edit rule to an edition.
func canEdit(p *auth.Principal, e *Edition) error {
	if p == nil {
		return fault.ErrUnauthenticated
	}
	if ruleAdmin.Allows(p, auth.RelNone) {
		return nil
	}
	rel := auth.RelNone
	if e.authorOrgID == p.OrgID {
		rel = auth.RelOwner
	}
	return auth.Check(p, ruleEdit, rel)
}
