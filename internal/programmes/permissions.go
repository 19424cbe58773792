package programmes

import (
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
)

// Who may do what in the register. Reading needs only a sign-in; the routes
// declare these rules and the service checks the record's relation (the
// organisation that recorded an initiative) where it changes one.
var (
	ruleRead   = auth.SignedIn
	ruleCreate = auth.Rule{Action: "add initiatives to the register", Roles: []auth.Role{auth.RolePolicyOfficer, auth.RoleAdmin}}
	ruleEdit   = auth.Rule{Action: "change initiatives recorded by another organisation", Roles: []auth.Role{auth.RolePolicyOfficer}, Relations: []auth.Relation{auth.RelOwner}}
	ruleAdmin  = auth.Rule{Action: "change any initiative", Roles: []auth.Role{auth.RoleAdmin}}
	// ruleChange admits to the routes that change or delete an initiative;
	// canEdit then decides for the one at hand.
	ruleChange = auth.AnyOf("change initiatives", ruleEdit, ruleAdmin)
)

// canEdit applies the edit rule: policy officers of the owning organisation,
// or an administrator.
func canEdit(p *auth.Principal, it *Initiative) error {
	if p == nil {
		return fault.ErrUnauthenticated
	}
	if ruleAdmin.Allows(p, auth.RelNone) {
		return nil
	}
	rel := auth.RelNone
	if it.ownerOrgID == p.OrgID {
		rel = auth.RelOwner
	}
	return auth.Check(p, ruleEdit, rel)
}
