package token

import (
	"sync"
	"time"
)

// verifiedTokens remembers the claims of access tokens that verified, keyed
// by the whole token (its signature included): a client sends the same
// token with every request for its lifetime, and checking its signature
// and parsing its JSON again each time was a tenth of a listen's CPU. Only
// what does not change is remembered; the time checks (expiry, issued-at)
// are made again on every use. A token that fails verification is never
// remembered, so a forged one always goes through the full check.
type verifiedTokens struct {
	mu     sync.RWMutex
	claims map[string]Claims
	max    int
}

func newVerifiedTokens(max int) *verifiedTokens {
	return &verifiedTokens{claims: map[string]Claims{}, max: max}
}

func (v *verifiedTokens) get(raw string) (Claims, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c, ok := v.claims[raw]
	return c, ok
}

func (v *verifiedTokens) put(raw string, c Claims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.claims[raw]; !ok && len(v.claims) >= v.max {
		for k := range v.claims {
			delete(v.claims, k)
			break
		}
	}
	v.claims[raw] = c
}

func (v *verifiedTokens) forget(raw string) {
	v.mu.Lock()
	delete(v.claims, raw)
	v.mu.Unlock()
}

// timely checks a remembered token's times at now as the parser does: not
// expired beyond the leeway, not issued beyond the leeway in the future.
func timely(c Claims, now time.Time) error {
	if !now.Before(c.ExpiresAt.Add(Leeway)) {
		return errExpired
	}
	if now.Before(c.IssuedAt.Add(-Leeway)) {
		return errInvalid
	}
	return nil
}
