package httpapi

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
)

// Pagination bounds of the wire contract.
const (
	DefaultLimit = 10
	MaxLimit     = 50
	// maxPage keeps (page-1)*limit far from overflowing; a page that far
	// out is empty anyway.
	maxPage = 1_000_000
)

// Page reads the query parameters page (default 1) and limit (default 10,
// at most 50). Out-of-range values are clamped; non-numbers are 400.
func Page(c *gin.Context) (page, limit int, err error) {
	return PageWithLimit(c, DefaultLimit)
}

// PageWithLimit is Page with another default limit (search uses 20 and 30).
func PageWithLimit(c *gin.Context, defaultLimit int) (page, limit int, err error) {
	page, err = queryInt(c, "page", 1, 1, maxPage)
	if err != nil {
		return 0, 0, err
	}
	limit, err = queryInt(c, "limit", min(max(defaultLimit, 1), MaxLimit), 1, MaxLimit)
	if err != nil {
		return 0, 0, err
	}
	return page, limit, nil
}

// Offset is the first row of a page: rows (page-1)*limit .. page*limit-1.
func Offset(page, limit int) int { return (page - 1) * limit }

func queryInt(c *gin.Context, name string, def, lo, hi int) (int, error) {
	raw := strings.TrimSpace(c.Query(name))
	if raw == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			// A number, just an absurd one: clamp it like any other.
			if strings.HasPrefix(raw, "-") {
				return lo, nil
			}
			return hi, nil
		}
		return 0, domain.Invalid(name + " must be a number")
	}
	return int(min(max(n, int64(lo)), int64(hi))), nil
}
