package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// formEcho answers what Fields saw: the values, the nulls, the file.
func formEcho(opts ...FieldsOption) gin.HandlerFunc {
	return func(c *gin.Context) {
		f, err := Fields(c, opts...)
		if err != nil {
			Error(c, err)
			return
		}
		out := gin.H{}
		for _, k := range f.Keys() {
			if v, ok := f.Get(k); ok {
				out[k] = v
			} else if f.IsNull(k) && f.Has(k) {
				out[k] = "<null>"
			}
		}
		fh, err := f.File()
		if err != nil {
			Error(c, err)
			return
		}
		if fh != nil {
			file, _ := fh.Open()
			b, _ := io.ReadAll(file)
			file.Close()
			out["<file>"] = fh.Filename + ":" + string(b)
		}
		Data(c, out)
	}
}

func multipartBody(t *testing.T, fields map[string]string, file string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		fw, _ := mw.CreateFormFile("file", "cover.png")
		fw.Write([]byte(file))
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func TestFields(t *testing.T) {
	s := newTestServer(t, nil)
	s.Engine().Any("/f", formEcho())
	s.Engine().POST("/raw", formEcho(RawJSON("items")))
	mpCT, mpBody := multipartBody(t, map[string]string{"title": "Sơn Tùng", "duration": "215"}, "PNGDATA")
	mpNullCT, mpNullBody := multipartBody(t, map[string]string{"title": "x", "file": "null"}, "")
	mpEmptyCT, mpEmptyBody := multipartBody(t, map[string]string{"file": ""}, "")
	mpTextCT, mpTextBody := multipartBody(t, map[string]string{"file": "not a file"}, "")
	mpBadCT, mpBadBody := multipartBody(t, map[string]string{"title": "\xff\xfe"}, "")

	for _, tc := range []struct {
		name, method, path, ct string
		body                   io.Reader
		status                 int
		want                   string
	}{
		{"json", "POST", "/f", "application/json", strings.NewReader(`{"title":"Hòa Minzy","duration":215.50,"big":12345678901234567890,"neg":-1e3,"public":true,"off":false,"description":null}`), 200,
			`{"data":{"big":"12345678901234567890","description":"\u003cnull\u003e","duration":"215.50","neg":"-1e3","off":"false","public":"true","title":"Hòa Minzy"}}`},
		{"json charset", "POST", "/f", "application/json; charset=utf-8", strings.NewReader(`{"a":"b"}`), 200, `{"data":{"a":"b"}}`},
		{"json no content type", "POST", "/f", "", strings.NewReader(`{"a":"b"}`), 200, `{"data":{"a":"b"}}`},
		{"json file null", "POST", "/f", "application/json", strings.NewReader(`{"file":null,"a":"b"}`), 200, `{"data":{"a":"b"}}`},
		{"json escapes", "POST", "/f", "application/json", strings.NewReader(`{"a":"\u0110en V\u00e2u \ud83d\ude00"}`), 200, `{"data":{"a":"Đen Vâu 😀"}}`},
		{"empty GET json", "GET", "/f", "application/json", nil, 200, `{"data":{}}`},
		{"empty POST json", "POST", "/f", "application/json", strings.NewReader(""), 200, `{"data":{}}`},
		{"whitespace json", "POST", "/f", "application/json", strings.NewReader("  \n "), 200, `{"data":{}}`},
		{"empty multipart", "POST", "/f", "multipart/form-data; boundary=x", strings.NewReader(""), 200, `{"data":{}}`},
		{"multipart", "POST", "/f", mpCT, mpBody, 200, `{"data":{"\u003cfile\u003e":"cover.png:PNGDATA","duration":"215","title":"Sơn Tùng"}}`},
		{"multipart file=null", "POST", "/f", mpNullCT, mpNullBody, 200, `{"data":{"title":"x"}}`},
		{"multipart file empty", "POST", "/f", mpEmptyCT, mpEmptyBody, 200, `{"data":{}}`},
		{"multipart file text", "POST", "/f", mpTextCT, mpTextBody, 400, `{"error":"file must be an uploaded file"}`},
		{"multipart invalid utf8", "POST", "/f", mpBadCT, mpBadBody, 400, `{"error":"Invalid payload: field title is not valid UTF-8"}`},
		{"multipart no boundary", "POST", "/f", "multipart/form-data", strings.NewReader("abc"), 400, `{"error":"Invalid multipart body: no boundary"}`},
		{"multipart garbage", "POST", "/f", "multipart/form-data; boundary=zz", strings.NewReader("garbage"), 400, `{"error":"Invalid multipart body"}`},
		{"urlencoded", "POST", "/f", "application/x-www-form-urlencoded", strings.NewReader("title=S%C6%A1n+T%C3%B9ng&country=VN&country=US"), 200, `{"data":{"country":"VN","title":"Sơn Tùng"}}`},
		{"urlencoded bad utf8", "POST", "/f", "application/x-www-form-urlencoded", strings.NewReader("title=%FF"), 400, `{"error":"Invalid payload: field title is not valid UTF-8"}`},
		{"urlencoded bad escape", "POST", "/f", "application/x-www-form-urlencoded", strings.NewReader("title=%zz"), 400, `{"error":"Invalid form body"}`},
		{"nested object", "POST", "/f", "application/json", strings.NewReader(`{"a":{"b":1}}`), 400, `{"error":"Invalid payload: field a must be a string, number, boolean or null"}`},
		{"nested array", "POST", "/f", "application/json", strings.NewReader(`{"a":[1]}`), 400, `{"error":"Invalid payload: field a must be a string, number, boolean or null"}`},
		{"raw allowed", "POST", "/raw", "application/json", strings.NewReader(`{"items": [ {"itemname": "Premium", "itemprice": 1} ]}`), 200, `{"data":{"items":"[{\"itemname\":\"Premium\",\"itemprice\":1}]"}}`},
		{"raw other field", "POST", "/raw", "application/json", strings.NewReader(`{"other":{}}`), 400, `{"error":"Invalid payload: field other must be a string, number, boolean or null"}`},
		{"top-level array", "POST", "/f", "application/json", strings.NewReader(`[{"a":"b"}]`), 400, `{"error":"Invalid payload: the body must be a JSON object"}`},
		{"top-level string", "POST", "/f", "application/json", strings.NewReader(`"a"`), 400, `{"error":"Invalid payload: the body must be a JSON object"}`},
		{"top-level null", "POST", "/f", "application/json", strings.NewReader(`null`), 400, `{"error":"Invalid payload: the body must be a JSON object"}`},
		{"invalid json", "POST", "/f", "application/json", strings.NewReader(`{"a":`), 400, `{"error":"Invalid JSON at offset 5: unexpected end of JSON input"}`},
		{"trailing data", "POST", "/f", "application/json", strings.NewReader(`{"a":"b"} {"c":1}`), 400, ""},
		{"invalid utf8 json", "POST", "/f", "application/json", strings.NewReader("{\"a\":\"\xff\"}"), 400, `{"error":"Invalid JSON: the body is not valid UTF-8"}`},
		{"NUL in json", "POST", "/f", "application/json", strings.NewReader(`{"a":"x\u0000y"}`), 400, `{"error":"Invalid payload: field a contains a NUL character"}`},
		{"unsupported type", "POST", "/f", "text/xml", strings.NewReader(`<a/>`), 400, `{"error":"Unsupported Content-Type \"text/xml\": send application/json, multipart/form-data or application/x-www-form-urlencoded"}`},
		{"bad content type", "POST", "/f", "application/json; ===", strings.NewReader(`{}`), 400, `{"error":"Invalid Content-Type header"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hr := httptest.NewRequest(tc.method, tc.path, tc.body)
			if tc.ct != "" {
				hr.Header.Set("Content-Type", tc.ct)
			}
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, hr)
			if w.Code != tc.status || (tc.want != "" && w.Body.String() != tc.want) {
				t.Fatalf("%d %s\nwant %d %s", w.Code, w.Body.String(), tc.status, tc.want)
			}
		})
	}
}

func TestFieldsTwiceReadsTheBodyOnce(t *testing.T) {
	s := newTestServer(t, nil)
	s.Engine().POST("/twice", func(c *gin.Context) {
		a, err1 := Fields(c)
		b, err2 := Fields(c)
		if err1 != nil || err2 != nil || a != b {
			Error(c, fmt.Errorf("%v %v", err1, err2))
			return
		}
		v, _ := b.Get("a")
		Data(c, v)
	})
	w := s.do(req{method: "POST", path: "/twice", body: strings.NewReader(`{"a":"b"}`), headers: map[string]string{"Content-Type": "application/json"}})
	if w.Body.String() != `{"data":"b"}` {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
}

func TestFormAccessors(t *testing.T) {
	f := &Form{values: map[string]string{"title": "", "b": "x"}, nulls: map[string]bool{"c": true}}
	if v, ok := f.Get("title"); !ok || v != "" {
		t.Fatal("an empty string is a sent value")
	}
	if _, ok := f.Get("c"); ok || !f.Has("c") || !f.IsNull("c") {
		t.Fatal("null: Get not ok, Has true, IsNull true")
	}
	if _, ok := f.Get("missing"); ok || f.Has("missing") || f.IsNull("missing") {
		t.Fatal("absent field")
	}
	if got := strings.Join(f.Keys(), ","); got != "b,c,title" {
		t.Fatalf("Keys = %s", got)
	}
	if fh, err := f.File(); fh != nil || err != nil {
		t.Fatal("no file")
	}
}

func TestDecodeJSON(t *testing.T) {
	s := newTestServer(t, nil)
	type item struct {
		Name     string `json:"itemname"`
		Price    int64  `json:"itemprice"`
		Quantity int    `json:"itemquantity"`
	}
	type order struct {
		Items  []item `json:"items"`
		UserID string `json:"userid"`
	}
	s.Engine().POST("/order", func(c *gin.Context) {
		var o order
		if err := DecodeJSON(c, &o); err != nil {
			Error(c, err)
			return
		}
		Data(c, o)
	})
	for _, tc := range []struct {
		name, ct, body string
		status         int
		want           string
	}{
		{"ok", "application/json", `{"items":[{"itemname":"Hust Musik Premium","itemprice":50000,"itemquantity":2}],"extra":1}`, 200,
			`{"data":{"items":[{"itemname":"Hust Musik Premium","itemprice":50000,"itemquantity":2}],"userid":""}}`},
		{"empty", "application/json", ``, 200, `{"data":{"items":null,"userid":""}}`},
		{"wrong type", "application/json", `{"items":[{"itemprice":"50000"}]}`, 400, `{"error":"Invalid payload: field items.itemprice must be an integer"}`},
		{"wrong container", "application/json", `{"items":{}}`, 400, `{"error":"Invalid payload: field items must be an array"}`},
		{"not an object", "application/json", `[1]`, 400, `{"error":"Invalid payload: the body must be an object"}`},
		{"syntax", "application/json", `{"items":[}`, 400, ""},
		{"bad utf8", "application/json", "{\"userid\":\"\xff\"}", 400, `{"error":"Invalid JSON: the body is not valid UTF-8"}`},
		{"multipart", "multipart/form-data; boundary=x", `--x--`, 400, `{"error":"Unsupported Content-Type: send application/json"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := s.do(req{method: "POST", path: "/order", body: strings.NewReader(tc.body), headers: map[string]string{"Content-Type": tc.ct}})
			if w.Code != tc.status || (tc.want != "" && w.Body.String() != tc.want) {
				t.Fatalf("%d %s\nwant %d %s", w.Code, w.Body.String(), tc.status, tc.want)
			}
			if tc.want == "" && !strings.HasPrefix(w.Body.String(), `{"error":"Invalid JSON at offset`) {
				t.Fatalf("syntax error message %s", w.Body.String())
			}
		})
	}
}
