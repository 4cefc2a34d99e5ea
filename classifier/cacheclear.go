package classifier

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
)

// CacheConfig configures the cache tiers (Config.Cache): see the fields'
// documentation; the zero value is the embedded default, SQLite and disk
// tiers under the data directory with Redis off.
type CacheConfig = cache.Config

// CacheStats are the cache tiers' counters (Stats.Cache).
type CacheStats = cache.Stats

// CacheReport counts what CleanupCache or ClearCache removed from each tier.
type CacheReport = cache.CleanupReport

// SQLiteLibrary says which SQLite the SQL tier links (Stats.SQLite).
type SQLiteLibrary = cache.SQLiteLibrary

// CleanupCache removes expired rows and files from the cache tiers (the
// Redis tier expires its own keys). An error with a report means a tier
// failed as a whole (the others were still cleaned); a closed engine
// returns ErrClosed.
func (e *Engine) CleanupCache(ctx context.Context) (CacheReport, error) {
	if e.closed.Load() {
		return CacheReport{}, ErrClosed
	}
	return e.cache.Cleanup(ctx) // its errors say "cache: <tier>: cleanup: …"
}

// typeField is the JSON member of a cached answer holding its type (the tag
// of Result.Type).
const typeField = "ip_type"

// ErrInvalidType is wrapped by the errors of ParseIPType and of ClearCache
// for a type that is not one of Types.
var ErrInvalidType = errors.New("invalid ip_type")

// ParseIPType returns the IPType named s ("tor", "cloud", "datacenter",
// "residential" or "unknown", exactly), or an error naming s and the valid
// names.
func ParseIPType(s string) (IPType, error) {
	if t := IPType(s); t.Valid() {
		return t, nil
	}
	names := make([]string, len(allTypes))
	for i, t := range allTypes {
		names[i] = string(t)
	}
	return "", fmt.Errorf("%w %q: want one of %s", ErrInvalidType, s, strings.Join(names, ", "))
}

// ClearCache removes cached answers from every cache tier, so that the next
// lookup of those addresses is classified from the lists loaded now: every
// answer when t is empty, else only the answers of type t — TypeUnknown
// after a list update gives the addresses no list knew a second look while
// the other answers stay cached. Rows of other services in enrichment_cache
// are never touched. See cache.(*Cache).Clear and ClearWhere for how each
// tier is cleared.
//
// The report counts what each tier removed. An error with a report means a
// tier failed as a whole (the others were still cleared); an invalid t
// clears nothing and returns an error wrapping ErrInvalidType; a closed
// engine returns ErrClosed.
func (e *Engine) ClearCache(ctx context.Context, t IPType) (CacheReport, error) {
	if e.closed.Load() {
		return CacheReport{}, ErrClosed
	}
	if t == "" {
		r, err := e.cache.Clear(ctx)
		if err != nil {
			return r, fmt.Errorf("clear cache: %w", err)
		}
		return r, nil
	}
	if _, err := ParseIPType(string(t)); err != nil {
		return CacheReport{}, fmt.Errorf("clear cache: %w", err)
	}
	r, err := e.cache.ClearWhere(ctx, typeField, string(t))
	if err != nil {
		return r, fmt.Errorf("clear cache of %s answers: %w", t, err)
	}
	return r, nil
}
