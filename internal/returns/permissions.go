package returns

import (
	"kompas/internal/platform/auth"
	"kompas/internal/platform/web"
)

// This file says who may do what on a return case: by role, and by the
// case's relation to the caller's organisation. Routes declare the roles
// (the adapter admits the caller before the handler runs); the relation,
// which only the case can tell, is checked where the case is read (loadHead
// and act in the service, Move.Allows for the stage machine).

// RelProgramme is the relation of a case to an organisation that operates
// its programme (the return service, IOM).
const RelProgramme auth.Relation = "programme"

// The parties of a case.
var (
	// whoOffice is the return service's caseworkers and IOM's return
	// officers, for the cases of the programmes they operate (or, for IOM,
	// that the migrant chose it for counselling).
	whoOffice = auth.Rule{Roles: []auth.Role{auth.RoleCaseworker, auth.RoleReturnOfficer}, Relations: []auth.Relation{RelProgramme, auth.RelChosen}}
	// whoCounsellor is a counsellor of the NGO the migrant chose.
	whoCounsellor = auth.Rule{Roles: []auth.Role{auth.RoleCounsellor}, Relations: []auth.Relation{auth.RelChosen}}
	// whoPartner is the reintegration partner assigned to the case.
	whoPartner = auth.Rule{Roles: []auth.Role{auth.RolePartner}, Relations: []auth.Relation{auth.RelAssigned}}
)

// Who may make a move of the stage machine (Moves).
var (
	office           = []auth.Rule{whoOffice}
	officeCounsellor = []auth.Rule{whoOffice, whoCounsellor}
	officePartner    = []auth.Rule{whoOffice, whoPartner}
)

// caseAct is one kind of record the parties of a case add to it: what the
// refusal calls it, and who may add it.
type caseAct struct {
	What string
	Who  []auth.Rule
}

// The records of a case and who may add them; the case page offers only
// the forms the caller may submit.
var (
	actConsent        = caseAct{"record consent", officeCounsellor}
	actChoice         = caseAct{"record a change of counselling organisation", officeCounsellor}
	actDocument       = caseAct{"request travel documents", office}
	actDecision       = caseAct{"record travel document decisions", office}
	actFlight         = caseAct{"book flights", office}
	actPartner        = caseAct{"assign reintegration partners", office}
	actPlan           = caseAct{"write reintegration plans", []auth.Rule{whoOffice, whoCounsellor, whoPartner}}
	actDelivery       = caseAct{"record deliveries", officePartner}
	actVisit          = caseAct{"record monitoring visits", officePartner}
	actReferral       = caseAct{"send referrals", officePartner}
	actReferralStatus = caseAct{"update referrals", officePartner}
)

// access is the act's rule as its routes declare it: the roles it admits.
func (a caseAct) access() web.Access { return auth.AnyOf(a.What, a.Who...) }

// allows reports whether p, standing in rels to a case, may add the record.
func (a caseAct) allows(p *auth.Principal, rels []auth.Relation) bool {
	return allowsAny(p, rels, a.Who...)
}

// The rules the module's other routes declare.
var (
	ruleRead = auth.SignedIn
	// ruleCase admits the parties that work on cases: the office, the
	// chosen NGO's counsellors, the assigned partner.
	ruleCase   = auth.AnyOf("work on return cases", whoOffice, whoCounsellor, whoPartner)
	ruleCreate = auth.Rule{Action: "register return cases", Roles: []auth.Role{auth.RoleCaseworker, auth.RoleReturnOfficer, auth.RoleCounsellor}}
	// ruleExport: exports are for the organisations that run the
	// programmes. They hold no special-category data (no documents held,
	// no vulnerabilities), only the queue's columns.
	ruleExport = auth.Rule{Action: "export return cases", Roles: []auth.Role{auth.RoleCaseworker, auth.RoleReturnOfficer}}
	// ruleDeclare: a partner declares the countries it covers itself.
	ruleDeclare = auth.Rule{Action: "declare the countries of another reintegration partner", Roles: []auth.Role{auth.RolePartner}, Relations: []auth.Relation{auth.RelOwner}}
	// ruleDeclareRoute admits partners (for themselves) and administrators.
	ruleDeclareRoute = auth.AnyOf("declare the countries reintegration partners cover", ruleDeclare,
		auth.Rule{Roles: []auth.Role{auth.RoleAdmin}})
)
