package iati

import "kompas/internal/platform/auth"

// Who may use the IATI import and export. The routes declare these rules;
// whether an officer may confirm a suggestion for a given initiative is the
// register's edit rule, asked through programmes.MayEdit.
var (
	ruleImport = auth.Rule{Action: "import IATI files", Roles: []auth.Role{auth.RolePolicyOfficer, auth.RoleAdmin}}
	ruleDecide = auth.Rule{Action: "confirm or reject suggested GCM objectives", Roles: []auth.Role{auth.RolePolicyOfficer, auth.RoleAdmin}}
	ruleRead   = auth.SignedIn
)
