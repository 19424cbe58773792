package returns

import "kompas/internal/platform/auth"

// The rules the returns routes declare. Which case a caller admitted by
// them may see or change is decided where the case is read (caseRelation,
// the stage table, actionRules).
var (
	ruleRead = auth.SignedIn
	// ruleCase admits the parties that work on cases: the office, the
	// chosen NGO's counsellors, the assigned partner.
	ruleCase = auth.AnyOf("work on return cases", whoOffice, whoCounsellor, whoPartner)
	// ruleDeclareRoute admits partners (for themselves) and administrators.
	ruleDeclareRoute = auth.AnyOf("declare the countries reintegration partners cover", ruleDeclare,
		auth.Rule{Roles: []auth.Role{auth.RoleAdmin}})
)
