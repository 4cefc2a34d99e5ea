package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// maxField bounds the member name ClearWhere accepts.
const maxField = 64

// match selects stored values by one top-level member of their JSON object:
// a value is selected when it is a JSON object whose member field holds the
// JSON string value. A nil *match selects every value.
type match struct {
	field string // checked by newMatch: letters, digits and '_'
	value string
}

// newMatch checks field: it must be a plain member name (an ASCII letter or
// '_', then letters, digits or '_', at most maxField bytes), because it
// becomes an SQLite JSON path.
func newMatch(field, value string) (*match, error) {
	if field == "" || len(field) > maxField {
		return nil, fmt.Errorf("cache: clear where %q: the field must be 1 to %d characters", field, maxField)
	}
	for i := 0; i < len(field); i++ {
		c := field[i]
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return nil, fmt.Errorf("cache: clear where %q: the field must be a member name of letters, digits and '_'", field)
		}
	}
	return &match{field: field, value: value}, nil
}

// op names the clear that m selects in error messages: "clear" for a nil
// m, else "clear where field = "value"".
func (m *match) op() string {
	if m == nil {
		return "clear"
	}
	return fmt.Sprintf("clear where %s = %q", m.field, m.value)
}

// selects tells whether v is selected (see match). A value that is not a
// JSON object, lacks the member, or holds another type there is not.
func (m *match) selects(v []byte) bool {
	if m == nil {
		return true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(v, &obj) != nil {
		return false
	}
	raw, ok := obj[m.field]
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return false
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && s == m.value
}

// Clear drops every key, row and file of ours from every tier (the ops
// "clear tiers" rollback): Redis keys ip_classification:*, enrichment_cache
// rows of our service, and our files under Dir, temporary files included.
// Other services' rows and keys and foreign files are left alone. The tiers
// are cleared from the bottom up (L3, L2, then L1) so that a lookup running
// meanwhile cannot copy a value from a tier not yet cleared into one
// already cleared. Values queued for writing before the call are written
// first, so they are cleared too. Files that cannot be removed are counted in L3Skipped;
// the error reports a tier that failed as a whole, or ctx ending (wrapping
// ctx.Err(); the report counts what was removed until then).
func (c *Cache) Clear(ctx context.Context) (CleanupReport, error) {
	return c.clear(ctx, nil)
}

// ClearWhere is Clear restricted to the values that are a JSON object whose
// top-level member field holds the JSON string value — for the engine's
// answers, ClearWhere(ctx, "ip_type", "unknown") drops the cached unknown
// answers and keeps the others. A value that is not such an object (not
// JSON, no such member, a number or null there) is kept, and so are
// temporary files. field must be a member name of ASCII letters, digits and
// '_' (not starting with a digit), else nothing is cleared and the error
// says why.
//
// How each tier checks the value:
//
//   - L1 Redis has no query by value: our keys are scanned (SCAN), their
//     values read in batches (MGET) and checked here, and the selected keys
//     unlinked (UNLINK). A key rewritten between the read and the unlink is
//     removed with its new value: a miss, recomputed by the next lookup.
//   - L2 SQL checks the value in the DELETE statement itself, with the
//     database's JSON functions: SQLite json_valid, json_type and
//     json_extract (a row of ours that is not valid JSON is kept);
//     PostgreSQL ->, ->> and json(b)_typeof on a json or jsonb column. On
//     a text or varchar column PostgreSQL must cast the value to jsonb: a
//     row of ours that is not valid JSON then fails the statement, nothing
//     is deleted from L2 and the error says so (Clear removes such rows).
//   - L3 reads every file of ours and checks it here; a file rewritten
//     between the read and the removal is removed with its new value, and
//     a file that cannot be read is counted in L3Skipped.
func (c *Cache) ClearWhere(ctx context.Context, field, value string) (CleanupReport, error) {
	m, err := newMatch(field, value)
	if err != nil {
		return CleanupReport{}, err
	}
	return c.clear(ctx, m)
}

// clear removes the entries of ours that m selects (all of them for nil),
// bottom tier first (see Clear).
func (c *Cache) clear(ctx context.Context, m *match) (CleanupReport, error) {
	var r CleanupReport
	if c == nil || c.closed.Load() {
		return r, nil
	}
	var errs []error
	// What was queued before the clear is written first, so the clear
	// removes it instead of the writers bringing it back afterwards.
	if err := c.Flush(ctx); err != nil {
		errs = append(errs, err)
	}
	if c.l3 != nil {
		var err error
		r.L3Files, r.L3Dirs, r.L3Skipped, err = c.l3.sweep(ctx, c.now(), true, m)
		if err != nil {
			errs = append(errs, fmt.Errorf("cache: L3 files: %s stopped: %w", m.op(), err))
		}
	}
	if c.l2 != nil {
		n, err := c.l2.deleteRows(ctx, c.now(), true, m)
		r.L2Rows = n
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.l1 != nil {
		n, err := c.l1.clear(ctx, m)
		r.L1Keys = n
		if err != nil {
			errs = append(errs, err)
		}
	}
	// Each error names its tier and the clear (m.op()) once.
	return r, errors.Join(errs...)
}
