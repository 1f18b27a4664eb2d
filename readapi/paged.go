package readapi

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// listPage answers a paged list ({"count", "data"}): page and limit from the
// query (default limit def), then fetch, then the answer or the error.
func listPage[T any](c *gin.Context, def int, fetch func(ctx context.Context, page, limit int) (int, []T, error)) {
	page, limit, err := httpapi.PageWithLimit(c, def)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	count, items, err := fetch(c.Request.Context(), page, limit)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.List(c, count, items)
}

// listOf is listPage for a list that belongs to the object whose id is the
// path's :id (what names it in a 400, e.g. "artist").
func listOf[T any](c *gin.Context, what string, def int, fetch func(ctx context.Context, id string, page, limit int) (int, []T, error)) {
	id, err := domain.ParseID(c.Param("id"), what)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	listPage(c, def, func(ctx context.Context, page, limit int) (int, []T, error) { return fetch(ctx, id, page, limit) })
}
