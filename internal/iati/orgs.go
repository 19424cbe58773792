package iati

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
)

// orgResolver finds the Kompas organisation an activity names, creating it
// when there is none. The rule, in order:
//
//  1. a Kompas slug (kompas:org, in Kompas's own exports) of an existing
//     organisation;
//  2. an IATI reference recorded before (iati_org_refs);
//  3. an organisation whose slug is the reference's slug (see slugify);
//  4. an organisation with the same name (ignoring case and spacing);
//  5. otherwise a new organisation: slug from the reference (or the name
//     when there is no reference), made unique with -2, -3 …; name from the
//     narrative (or the reference); kind from the IATI organisation type.
//
// A reference met with an organisation is recorded, so the export writes it
// back. Lookups are cached for the run; what an activity adds is forgotten
// again when its savepoint is rolled back.
type orgResolver struct {
	orgs    Orgs
	bySlug  map[string]bool   // slugs known to exist
	byRef   map[string]string // IATI ref → slug
	byName  map[string]string // folded name → slug
	pending []func()          // undo of what the current activity cached
}

// Orgs is what the import needs of the accounts service (auth.Service):
// an organisation added inside the import's transaction unless its slug is
// there already.
type Orgs interface {
	EnsureOrg(ctx context.Context, tx *store.Tx, o auth.Org) (int64, error)
}

func newOrgResolver(orgs Orgs) *orgResolver {
	return &orgResolver{orgs: orgs, bySlug: map[string]bool{}, byRef: map[string]string{}, byName: map[string]string{}}
}

const maxCache = 50_000

func (o *orgResolver) remember(m map[string]string, k, v string) {
	if len(m) > maxCache {
		clear(m)
	}
	if _, had := m[k]; !had {
		o.pending = append(o.pending, func() { delete(m, k) })
	}
	m[k] = v
}

// known caches a fact read from the database (nothing to undo).
func (o *orgResolver) known(m map[string]string, k, v string) {
	if len(m) > maxCache {
		clear(m)
	}
	m[k] = v
}

func (o *orgResolver) rememberSlug(s string) {
	if len(o.bySlug) > maxCache {
		clear(o.bySlug)
	}
	if !o.bySlug[s] {
		o.pending = append(o.pending, func() { delete(o.bySlug, s) })
	}
	o.bySlug[s] = true
}

// commit keeps what the current activity cached; rollback forgets it.
func (o *orgResolver) commit() { o.pending = o.pending[:0] }

func (o *orgResolver) rollback() {
	for i := len(o.pending) - 1; i >= 0; i-- {
		o.pending[i]()
	}
	o.pending = o.pending[:0]
}

// forgetAll drops the cache (after a batch was rolled back).
func (o *orgResolver) forgetAll() {
	clear(o.bySlug)
	clear(o.byRef)
	clear(o.byName)
	o.pending = o.pending[:0]
}

func foldName(s string) string { return strings.ToLower(squash(s)) }

// slugify makes an organisation slug: lower case a-z, 0-9 and single
// dashes, at most 60 characters ("XM-DAC-47066" → "xm-dac-47066").
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func (o *orgResolver) slugExists(ctx context.Context, tx *store.Tx, slug string) (bool, error) {
	if slug == "" {
		return false, nil
	}
	if o.bySlug[slug] {
		return true, nil
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM organisations WHERE slug = ?`, slug).Scan(&n); err != nil {
		return false, fmt.Errorf("iati: find organisation: %w", err)
	}
	if n > 0 {
		if len(o.bySlug) > maxCache {
			clear(o.bySlug)
		}
		o.bySlug[slug] = true
	}
	return n > 0, nil
}

// orgPlan is what one activity would add: organisations to create and
// references to record. They are written only once the activity is known
// to be good (carry), so a refused activity leaves none behind.
type orgPlan struct {
	slugs  map[string]bool   // slugs taken by planned organisations
	byRef  map[string]string // planned ref → slug
	byName map[string]string // planned folded name → slug
	acts   []func(ctx context.Context, tx *store.Tx) error
}

func newOrgPlan() *orgPlan {
	return &orgPlan{slugs: map[string]bool{}, byRef: map[string]string{}, byName: map[string]string{}}
}

// carry writes what the plan holds.
func (o *orgResolver) carry(ctx context.Context, tx *store.Tx, pl *orgPlan) error {
	for _, act := range pl.acts {
		if err := act(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// find returns the slug of the organisation ref names: an existing one, or
// one the plan will create (see orgResolver for the order of the rules).
func (o *orgResolver) find(ctx context.Context, tx *store.Tx, ref OrgRef, pl *orgPlan) (string, error) {
	if ok, err := o.slugExists(ctx, tx, ref.Slug); err != nil || ok {
		return ref.Slug, err
	}
	if s, ok := pl.byRef[ref.Ref]; ok && ref.Ref != "" {
		return s, nil
	}
	if ref.Ref != "" {
		if s, ok := o.byRef[ref.Ref]; ok {
			return s, nil
		}
		var slug string
		err := tx.QueryRow(ctx, `SELECT o.slug FROM iati_org_refs r JOIN organisations o ON o.id = r.org_id WHERE r.ref = ?`, ref.Ref).Scan(&slug)
		if err == nil {
			o.known(o.byRef, ref.Ref, slug)
			return slug, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("iati: find organisation by reference: %w", err)
		}
		if s := slugify(ref.Ref); s != "" {
			if ok, err := o.slugExists(ctx, tx, s); err != nil {
				return "", err
			} else if ok {
				o.planRef(pl, ref.Ref, s)
				return s, nil
			}
		}
	}
	if ref.Name != "" {
		key := foldName(ref.Name)
		if s, ok := pl.byName[key]; ok {
			return s, nil
		}
		slug, ok := o.byName[key]
		if !ok {
			err := tx.QueryRow(ctx, `SELECT slug FROM organisations WHERE lower(name) = ? ORDER BY id LIMIT 1`, key).Scan(&slug)
			switch {
			case err == nil:
				ok = true
				o.known(o.byName, key, slug)
			case !errors.Is(err, sql.ErrNoRows):
				return "", fmt.Errorf("iati: find organisation by name: %w", err)
			}
		}
		if ok {
			if ref.Ref != "" {
				o.planRef(pl, ref.Ref, slug)
			}
			return slug, nil
		}
	}
	// A new organisation.
	base := ""
	if ref.Slug != "" && slugify(ref.Slug) == ref.Slug {
		base = ref.Slug // Kompas's own export: keep the slug it had
	}
	if base == "" {
		base = slugify(ref.Ref)
	}
	if base == "" {
		base = slugify(ref.Name)
	}
	if base == "" {
		return "", fault.Invalid(fault.FieldError{Field: fmt.Sprintf("line %d: <participating-org>", ref.Line), Message: "the organisation has neither a usable reference nor a name"})
	}
	slug := base
	for n := 2; ; n++ {
		ok, err := o.slugExists(ctx, tx, slug)
		if err != nil {
			return "", err
		}
		if !ok && !pl.slugs[slug] {
			break
		}
		slug = fmt.Sprintf("%s-%d", strings.TrimSuffix(base[:min(len(base), 55)], "-"), n)
		if n > 1000 {
			return "", fmt.Errorf("iati: no free slug for organisation %q", base)
		}
	}
	name := ref.Name
	if name == "" {
		name = ref.Ref
	}
	if name == "" {
		name = ref.Slug
	}
	pl.slugs[slug] = true
	if ref.Name != "" {
		pl.byName[foldName(ref.Name)] = slug
	}
	org := auth.Org{Slug: slug, Name: truncate(name, 200), Kind: kindForOrgType(ref.Type)}
	pl.acts = append(pl.acts, func(ctx context.Context, tx *store.Tx) error {
		if o.orgs == nil {
			return errors.New("iati: the importer was given no organisations (auth.Service)")
		}
		if _, err := o.orgs.EnsureOrg(ctx, tx, org); err != nil {
			return err
		}
		o.rememberSlug(org.Slug)
		if ref.Name != "" {
			o.remember(o.byName, foldName(ref.Name), org.Slug)
		}
		return nil
	})
	if ref.Ref != "" {
		o.planRef(pl, ref.Ref, slug)
	}
	return slug, nil
}

// planRef plans to record that ref is the organisation slug.
func (o *orgResolver) planRef(pl *orgPlan, ref, slug string) {
	pl.byRef[ref] = slug
	pl.acts = append(pl.acts, func(ctx context.Context, tx *store.Tx) error { return o.recordRef(ctx, tx, ref, slug) })
}

func (o *orgResolver) recordRef(ctx context.Context, tx *store.Tx, ref, slug string) error {
	if len(ref) > 200 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO iati_org_refs (ref, org_id) SELECT ?, id FROM organisations WHERE slug = ? ON CONFLICT (ref) DO NOTHING`, ref, slug); err != nil {
		return fmt.Errorf("iati: record organisation reference: %w", err)
	}
	o.remember(o.byRef, ref, slug)
	return nil
}
