package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
)

// The request decoders never panic; they either decode, with every value
// valid UTF-8 and free of NUL (what PostgreSQL can store), or refuse with a
// 400/413 domain error. `go test` runs the seeds and testdata/fuzz.

func fuzzContext(method, target, contentType string, body []byte) *gin.Context {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	// The server's body limit, as the middleware sets it (small here).
	req.Body = http.MaxBytesReader(nil, req.Body, 1<<16)
	c.Request = req
	return c
}

func wantClientError(t *testing.T, err error) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || !(errors.Is(err, domain.ErrValidation) || errors.Is(err, domain.ErrTooLarge)) {
		t.Fatalf("error %v (%T) is not a 400 or 413", err, err)
	}
}

var fuzzContentTypes = []string{"application/json", "", "application/x-www-form-urlencoded",
	"multipart/form-data; boundary=XX", "multipart/form-data", "text/plain", "application/merge-patch+json", "a/b; c"}

func FuzzFields(f *testing.F) {
	f.Add(uint8(0), []byte(`{"title":"Lạc Trôi","duration":215,"public":true,"x":null}`))
	f.Add(uint8(0), []byte(`{"title":"\u0000"}`))
	f.Add(uint8(0), []byte(`{"a":{"b":[1,2,{"c":[[[[[]]]]]}]}}`))
	f.Add(uint8(0), []byte("{\"t\":\"\xff\xfe\"}"))
	f.Add(uint8(0), []byte(`[1,2,3]`))
	f.Add(uint8(0), []byte(`{"title": "x"} trailing`))
	f.Add(uint8(1), []byte(`{"file":"null","title":"' OR 1=1; DROP TABLE songs; --"}`))
	f.Add(uint8(2), []byte("title=L%E1%BA%A1c&file=null&x=%ff&y=%00"))
	f.Add(uint8(3), []byte("--XX\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XX--\r\n"))
	f.Add(uint8(3), []byte("--XX\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n\xff\r\n--XX--\r\n"))
	f.Add(uint8(4), []byte("--XX--"))
	f.Add(uint8(5), []byte("hello"))
	f.Fuzz(func(t *testing.T, ct uint8, body []byte) {
		c := fuzzContext("POST", "/", fuzzContentTypes[int(ct)%len(fuzzContentTypes)], body)
		form, err := Fields(c, RawJSON("items"))
		if err != nil {
			wantClientError(t, err)
			return
		}
		for _, k := range form.Keys() {
			v, _ := form.Get(k)
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("field %q = %q accepted", k, v)
			}
			if k == FileField {
				t.Fatal("the file field is listed among the text fields")
			}
		}
		// Decoding is cached: a second call sees the same Form.
		if again, err := Fields(c); err != nil || again != form {
			t.Fatalf("second Fields call: %v", err)
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add(`{"items":[{"itemname":"Premium","itemprice":50000,"itemquantity":1}],"userid":"x"}`)
	f.Add(`{"items":"nope"}`)
	f.Add(`{"items":[` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `]}`)
	f.Add("{\"items\":\"\xff\"}")
	f.Add(``)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, body string) {
		c := fuzzContext("POST", "/", "application/json", []byte(body))
		var v struct {
			Items []struct {
				Name  string `json:"itemname"`
				Price int64  `json:"itemprice"`
			} `json:"items"`
			UserID string `json:"userid"`
		}
		if err := DecodeJSON(c, &v); err != nil {
			wantClientError(t, err)
		}
	})
}

func FuzzPage(f *testing.F) {
	for _, s := range [][2]string{{"1", "10"}, {"", ""}, {"-5", "1000"}, {"99999999999999999999999", "-99999999999999999999"},
		{"abc", "1"}, {"1.5", "2"}, {" 3 ", "+4"}, {"0x10", "1e3"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, page, limit string) {
		c := fuzzContext("GET", "/?"+url.Values{"page": {page}, "limit": {limit}}.Encode(), "", nil)
		p, l, err := Page(c)
		if err != nil {
			wantClientError(t, err)
			return
		}
		if p < 1 || p > maxPage || l < 1 || l > MaxLimit {
			t.Fatalf("page %q limit %q gave %d, %d", page, limit, p, l)
		}
		if off := Offset(p, l); off < 0 {
			t.Fatalf("negative offset %d", off)
		}
	})
}
