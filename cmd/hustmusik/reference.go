package main

import (
	"github.com/gin-gonic/gin"

	apidocs "github.com/hustmusik/backend/docs"
)

// referenceHTTP serves the OpenAPI document (a /v1 route of the table) and
// the reference page that renders it at /docs (outside /v1: it is for
// people, not for the frontend).
type referenceHTTP struct{ ref *apidocs.Reference }

func newReference() (referenceHTTP, error) {
	ref, err := apidocs.New()
	if err != nil {
		return referenceHTTP{}, err
	}
	return referenceHTTP{ref: ref}, nil
}

// document serves GET /v1/openapi.json.
func (h referenceHTTP) document(c *gin.Context) { h.ref.ServeDocument(c.Writer, c.Request) }

// mount adds GET /docs and GET /docs/<asset>. The server strips a trailing
// slash before routing, so /docs/ is the page too.
func (h referenceHTTP) mount(e *gin.Engine) {
	e.GET("/docs", func(c *gin.Context) { h.ref.ServePage(c.Writer, c.Request, "") })
	e.GET("/docs/*file", func(c *gin.Context) { h.ref.ServePage(c.Writer, c.Request, c.Param("file")) })
}
