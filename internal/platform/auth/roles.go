package auth

// Role is what a user does; with the organisation and the record's relation
// to it, it decides access.
type Role string

const (
	RoleAdmin          Role = "admin"
	RolePolicyOfficer  Role = "policy_officer"
	RoleCaseworker     Role = "caseworker"
	RoleCounsellor     Role = "counsellor"
	RoleReturnOfficer  Role = "return_officer"
	RolePartner        Role = "reintegration_partner"
	RoleEmployer       Role = "employer"
	RoleInspector      Role = "inspector"
	RolePolice         Role = "police"
	RoleProsecutor     Role = "prosecutor"
	RoleCareCoord      Role = "care_coordinator"
	RoleShelterWorker  Role = "shelter_worker"
	RoleAnalyst        Role = "analyst"
	RolePrivacyOfficer Role = "privacy_officer"
	RolePermitOfficer  Role = "permit_officer"
)

// Roles lists every role with its label, in display order.
var Roles = []struct {
	Role  Role
	Label string
}{
	{RoleAdmin, "Administrator"},
	{RolePolicyOfficer, "Policy officer"},
	{RoleCaseworker, "Return caseworker"},
	{RoleCounsellor, "Return counsellor"},
	{RoleReturnOfficer, "Return programme officer"},
	{RolePartner, "Reintegration partner"},
	{RoleEmployer, "Employer"},
	{RoleInspector, "Labour inspector"},
	{RolePolice, "Police"},
	{RoleProsecutor, "Prosecutor"},
	{RoleCareCoord, "Care coordinator"},
	{RoleShelterWorker, "Shelter worker"},
	{RoleAnalyst, "Data analyst"},
	{RolePrivacyOfficer, "Privacy officer"},
	{RolePermitOfficer, "Permit officer"},
}

// Label is the role's name for people.
func (r Role) Label() string {
	for _, x := range Roles {
		if x.Role == r {
			return x.Label
		}
	}
	return string(r)
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x.Role == r {
			return true
		}
	}
	return false
}

// OrgKinds lists the kinds of organisation Kompas knows.
var OrgKinds = []string{
	"ministry", "agency", "international_organisation", "ngo", "employer", "reintegration_partner",
	"police", "prosecution", "coordination_centre", "care", "shelter", "inspectorate", "permit_office",
	"government", "eu_body", "research", "other",
}

// ValidOrgKind reports whether k is a known organisation kind.
func ValidOrgKind(k string) bool {
	for _, x := range OrgKinds {
		if x == k {
			return true
		}
	}
	return false
}
