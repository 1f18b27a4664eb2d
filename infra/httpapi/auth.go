package httpapi

import (
	"errors"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// unusableTokens are values the frontend sends when it has no token
// (`Bearer ${token}` with token undefined or null): the caller is anonymous.
var unusableTokens = map[string]bool{"": true, "undefined": true, "null": true}

// authenticate reads `Authorization: Bearer <token>`. A valid token makes
// the caller a principal; a missing, unusable or invalid one leaves the
// caller anonymous (public routes answer as usual), and the reason is kept
// for RequireUser's 401.
func (s *Server) authenticate(c *gin.Context) {
	raw, ok := bearer(c.GetHeader("Authorization"))
	if ok {
		claims, err := s.cfg.Verifier.Verify(raw)
		if err != nil {
			c.Set(keyAuthError, err)
		} else {
			c.Set(keyPrincipal, domain.Principal{UserID: claims.UserID, Role: claims.Role})
			c.Set(keySessionID, claims.SessionID)
		}
	}
	// Every event a command appends for this request carries who asked and
	// which request it was: the auditor's trail starts here.
	rid := RequestID(c)
	c.Request = c.Request.WithContext(eventstore.WithMetadata(c.Request.Context(), eventstore.Metadata{
		ActorID: Principal(c).UserID, RequestID: rid, CorrelationID: rid, Source: "api",
	}))
	c.Next()
}

// bearer extracts the token of a Bearer Authorization header; ok is false
// when there is none worth verifying.
func bearer(h string) (string, bool) {
	scheme, raw, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	raw = strings.TrimSpace(raw)
	if unusableTokens[raw] {
		return "", false
	}
	return raw, true
}

// Principal is the caller: a signed-in user, or the zero (anonymous) value.
func Principal(c *gin.Context) domain.Principal {
	v, _ := c.Get(keyPrincipal)
	p, _ := v.(domain.Principal)
	return p
}

// SessionID is the refresh session of the caller's access token ("" when
// anonymous).
func SessionID(c *gin.Context) string {
	return c.GetString(keySessionID)
}

// RequireUser answers 401 for an anonymous caller: with the verifier's
// message ("Token expired", "Invalid token") when a token was sent but
// refused, "Authentication required" when none was.
func RequireUser() gin.HandlerFunc {
	return func(c *gin.Context) {
		if Principal(c).Anonymous() {
			Error(c, authError(c))
			return
		}
		c.Next()
	}
}

// RequireRole answers 401 for an anonymous caller and 403 for a user whose
// role is not one of roles.
func RequireRole(roles ...domain.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := Principal(c)
		if p.Anonymous() {
			Error(c, authError(c))
			return
		}
		if !slices.Contains(roles, p.Role) {
			Error(c, domain.Forbidden("You do not have permission to perform this action"))
			return
		}
		c.Next()
	}
}

func authError(c *gin.Context) error {
	if v, ok := c.Get(keyAuthError); ok {
		err := v.(error)
		var de *domain.Error
		if errors.As(err, &de) && errors.Is(err, domain.ErrUnauthorized) {
			return err
		}
		// A verifier that failed for another reason still must not let the
		// caller in, and its text is not the client's business.
		return &domain.Error{Kind: domain.ErrUnauthorized, Msg: "Invalid token"}
	}
	return &domain.Error{Kind: domain.ErrUnauthorized, Msg: "Authentication required"}
}
