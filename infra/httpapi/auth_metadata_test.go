package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/token"
)

// Commands read the actor and request id of the events they append from the
// request's context: the middleware must put them there.
func TestRequestContextCarriesEventMetadata(t *testing.T) {
	issuer, err := token.New(token.Config{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Verifier: issuer}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var got eventstore.Metadata
	srv.Engine().POST("/probe", func(c *gin.Context) {
		got = eventstore.MetadataFrom(c.Request.Context())
		c.Status(http.StatusNoContent)
	})
	tok, _, err := issuer.Issue("0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "User", "s1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ auth, actor string }{
		{"Bearer " + tok, "0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"},
		{"Bearer undefined", ""},
	} {
		req := httptest.NewRequest("POST", "/probe", nil)
		req.Header.Set("Authorization", tc.auth)
		req.Header.Set("X-Request-Id", "req-"+time.Now().Format("150405.000000"))
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if got.ActorID != tc.actor || got.Source != "api" || got.RequestID != req.Header.Get("X-Request-Id") {
			t.Fatalf("metadata %+v for %q", got, tc.auth)
		}
	}
}
