package httpapi

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestPage(t *testing.T) {
	for _, tc := range []struct {
		query       string
		def         int
		page, limit int
		err         string
	}{
		{"", 10, 1, 10, ""},
		{"page=3&limit=20", 10, 3, 20, ""},
		{"page=0&limit=0", 10, 1, 1, ""},
		{"page=-5&limit=-1", 10, 1, 1, ""},
		{"limit=51", 10, 1, 50, ""},
		{"limit=1000", 10, 1, 50, ""},
		{"page=99999999999999999999", 10, 1_000_000, 10, ""},
		{"page=-99999999999999999999", 10, 1, 10, ""},
		{"page=&limit=", 10, 1, 10, ""},
		{"page=abc", 10, 0, 0, "page must be a number"},
		{"limit=ten", 10, 0, 0, "limit must be a number"},
		{"page=1.5", 10, 0, 0, "page must be a number"},
		{"limit=1e2", 10, 0, 0, "limit must be a number"},
		{"", 20, 1, 20, ""},
		{"", 30, 1, 30, ""},
		{"limit=40", 30, 1, 40, ""},
		{"", 80, 1, 50, ""},
	} {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/x?"+tc.query, nil)
		page, limit, err := PageWithLimit(c, tc.def)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: err %v, want %q", tc.query, err, tc.err)
			}
			continue
		}
		if err != nil || page != tc.page || limit != tc.limit {
			t.Errorf("%q (default %d): %d, %d, %v; want %d, %d", tc.query, tc.def, page, limit, err, tc.page, tc.limit)
		}
	}
	if Offset(3, 20) != 40 || Offset(1, 10) != 0 {
		t.Fatal("Offset")
	}
}

func TestPageAnswers400(t *testing.T) {
	s := newTestServer(t, nil)
	s.Engine().GET("/list", func(c *gin.Context) {
		page, limit, err := Page(c)
		if err != nil {
			Error(c, err)
			return
		}
		Data(c, fmt.Sprintf("%d/%d", page, limit))
	})
	wantError(t, s.do(req{path: "/list?page=x"}), 400, "page must be a number")
	if w := s.do(req{path: "/list?limit=500"}); w.Body.String() != `{"data":"1/50"}` {
		t.Fatalf("clamped: %s", w.Body.String())
	}
}

func TestAnswerHelpers(t *testing.T) {
	s := newTestServer(t, nil)
	var nilSlice []string
	var nilMap map[string]int
	s.Engine().GET("/list-nil", func(c *gin.Context) { List(c, 0, nilSlice) })
	s.Engine().GET("/list", func(c *gin.Context) { List(c, 42, []int{1, 2}) })
	s.Engine().GET("/data", func(c *gin.Context) { Data(c, gin.H{"id": "x"}) })
	s.Engine().GET("/data-nil", func(c *gin.Context) { Data(c, nilSlice) })
	s.Engine().GET("/data-nilmap", func(c *gin.Context) { Data(c, nilMap) })
	s.Engine().DELETE("/x", func(c *gin.Context) { NoContent(c) })
	for path, want := range map[string]string{
		"/list-nil":    `{"count":0,"data":[]}`,
		"/list":        `{"count":42,"data":[1,2]}`,
		"/data":        `{"data":{"id":"x"}}`,
		"/data-nil":    `{"data":[]}`,
		"/data-nilmap": `{"data":{}}`,
	} {
		if w := s.do(req{path: path}); w.Code != 200 || w.Body.String() != want {
			t.Errorf("%s: %d %s, want %s", path, w.Code, w.Body.String(), want)
		}
	}
	if w := s.do(req{method: "DELETE", path: "/x"}); w.Code != 204 || w.Body.Len() != 0 {
		t.Fatalf("NoContent: %d %q", w.Code, w.Body.String())
	}
}
