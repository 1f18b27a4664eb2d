package httpapi

import (
	"net/http"
	"reflect"

	"github.com/gin-gonic/gin"
)

// Data answers 200 {"data": v}.
func Data(c *gin.Context, v any) {
	c.JSON(http.StatusOK, gin.H{"data": emptyIfNil(v)})
}

// List answers 200 {"count": count, "data": items}; a nil slice is [].
func List(c *gin.Context, count int, items any) {
	c.JSON(http.StatusOK, gin.H{"count": count, "data": emptyIfNil(items)})
}

// NoContent answers 204 without a body.
func NoContent(c *gin.Context) {
	c.Status(http.StatusNoContent)
	c.Writer.WriteHeaderNow()
}

// emptyIfNil turns a nil slice (or nil interface) into [] and a nil map
// into {}: the frontend breaks on null where it expects a list.
func emptyIfNil(v any) any {
	if v == nil {
		return []struct{}{}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice:
		if rv.IsNil() {
			return reflect.MakeSlice(rv.Type(), 0, 0).Interface()
		}
	case reflect.Map:
		if rv.IsNil() {
			return reflect.MakeMap(rv.Type()).Interface()
		}
	}
	return v
}
