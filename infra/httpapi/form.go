package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
)

// FileField is the name of the one file part the API accepts.
const FileField = "file"

// multipartMemory is how much of a multipart body is kept in memory; the
// rest of a part spills to a temporary file that net/http removes after the
// request.
const multipartMemory = 8 << 20

// Form is a write request's flat fields, whatever the body's encoding:
// application/json (an object of strings, numbers, booleans and nulls),
// multipart/form-data or application/x-www-form-urlencoded.
type Form struct {
	values map[string]string
	nulls  map[string]bool
	file   *multipart.FileHeader
	// fileErr is a text "file" field that is not a "no file" marker.
	fileErr error
}

// Get returns a field's value; ok is false when the field is absent or
// JSON null. Numbers are their decimal text as sent, booleans "true"/"false".
func (f *Form) Get(name string) (string, bool) {
	v, ok := f.values[name]
	return v, ok
}

// Has reports whether the field was sent, JSON null included.
func (f *Form) Has(name string) bool {
	_, ok := f.values[name]
	return ok || f.nulls[name]
}

// IsNull reports whether the field was sent as JSON null.
func (f *Form) IsNull(name string) bool { return f.nulls[name] }

// Keys lists the names of the sent fields, null ones included, sorted; the
// file field is not among them.
func (f *Form) Keys() []string {
	keys := make([]string, 0, len(f.values)+len(f.nulls))
	for k := range f.values {
		keys = append(keys, k)
	}
	for k := range f.nulls {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// File is the uploaded part named "file", or nil when there is none. A
// text field file=null (or "", or "undefined") means "no file"; any other
// text in that field is a 400.
func (f *Form) File() (*multipart.FileHeader, error) {
	return f.file, f.fileErr
}

// FieldsOption changes what Fields accepts.
type FieldsOption func(*fieldsOptions)

type fieldsOptions struct{ raw map[string]bool }

// RawJSON lets the named JSON fields hold arrays or objects; Get returns
// their JSON text (compacted). Without it a nested value is a 400.
func RawJSON(names ...string) FieldsOption {
	return func(o *fieldsOptions) {
		for _, n := range names {
			o.raw[n] = true
		}
	}
}

// Fields decodes the request body into a Form. An empty body is an empty
// Form whatever its Content-Type (a GET with Content-Type: application/json
// and no body is fine). Errors are domain errors: 400 for a malformed body,
// 413 for one over the server's limit. The body is read once: a second
// call in the same request returns the same Form.
func Fields(c *gin.Context, opts ...FieldsOption) (*Form, error) {
	if v, ok := c.Get(keyForm); ok {
		return v.(*Form), nil
	}
	if v, ok := c.Get(keyFormErr); ok {
		// The body is gone: a second call must not see an empty Form where
		// the first saw a malformed body (a middleware may decode first).
		return nil, v.(error)
	}
	f, err := parseFields(c, opts)
	if err != nil {
		c.Set(keyFormErr, err)
		return nil, err
	}
	c.Set(keyForm, f)
	return f, nil
}

func parseFields(c *gin.Context, opts []FieldsOption) (*Form, error) {
	o := fieldsOptions{raw: map[string]bool{}}
	for _, opt := range opts {
		opt(&o)
	}
	f := &Form{values: map[string]string{}, nulls: map[string]bool{}}
	body, empty, err := peekBody(c.Request)
	if err != nil {
		return nil, err
	}
	if empty {
		return f, nil
	}
	c.Request.Body = body
	mediaType, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil && c.GetHeader("Content-Type") != "" {
		return nil, domain.Invalid("Invalid Content-Type header")
	}
	switch {
	case isJSON(mediaType):
		err = f.parseJSON(c.Request.Body, o)
	case mediaType == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, domain.Invalid("Invalid multipart body: no boundary")
		}
		err = f.parseMultipart(c.Request)
	case mediaType == "application/x-www-form-urlencoded":
		err = f.parseURLEncoded(c.Request.Body)
	default:
		return nil, domain.Invalid(fmt.Sprintf("Unsupported Content-Type %q: send application/json, multipart/form-data or application/x-www-form-urlencoded", mediaType))
	}
	if err != nil {
		return nil, err
	}
	if f.file == nil && f.fileErr == nil {
		if v, ok := f.values[FileField]; ok {
			if v != "" && v != "null" && v != "undefined" {
				f.fileErr = domain.Invalid("file must be an uploaded file")
			}
		}
	}
	delete(f.values, FileField)
	delete(f.nulls, FileField)
	return f, nil
}

// isJSON accepts application/json, any +json type, and no Content-Type at
// all (some clients send JSON without one).
func isJSON(mediaType string) bool {
	return mediaType == "" || mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// peekBody reports whether the body is empty without consuming it.
func peekBody(r *http.Request) (io.ReadCloser, bool, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return r.Body, true, nil
	}
	br := bufio.NewReader(r.Body)
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return r.Body, true, nil
		}
		return nil, false, bodyError(err)
	}
	return struct {
		io.Reader
		io.Closer
	}{br, r.Body}, false, nil
}

// bodyError maps a failure to read the body: over the limit is 413, the rest
// (a client that hung up mid-body) 400.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &domain.Error{Kind: domain.ErrTooLarge, Msg: msgTooLarge}
	}
	return domain.Invalid("Could not read the request body")
}

func readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, bodyError(err)
	}
	return b, nil
}

func (f *Form) parseJSON(r io.Reader, o fieldsOptions) error {
	b, err := readAll(r)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return domain.Invalid("Invalid JSON: the body is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil
	}
	if trimmed[0] != '{' {
		return domain.Invalid("Invalid payload: the body must be a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return jsonError(err)
	}
	for name, v := range raw {
		switch v[0] {
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return jsonError(err)
			}
			if err := checkText(name, s); err != nil {
				return err
			}
			f.values[name] = s
		case 'n':
			f.nulls[name] = true
		case 't', 'f':
			f.values[name] = string(v)
		case '{', '[':
			if !o.raw[name] {
				return domain.Invalid(fmt.Sprintf("Invalid payload: field %s must be a string, number, boolean or null", name))
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return jsonError(err)
			}
			f.values[name] = buf.String()
		default: // a number, as its decimal text
			f.values[name] = string(v)
		}
	}
	return nil
}

// checkText refuses text PostgreSQL cannot store (NUL) or that is not UTF-8.
func checkText(name, v string) error {
	if !utf8.ValidString(v) {
		return domain.Invalid(fmt.Sprintf("Invalid payload: field %s is not valid UTF-8", name))
	}
	if strings.IndexByte(v, 0) >= 0 {
		return domain.Invalid(fmt.Sprintf("Invalid payload: field %s contains a NUL character", name))
	}
	return nil
}

func (f *Form) parseMultipart(r *http.Request) error {
	if err := r.ParseMultipartForm(multipartMemory); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &domain.Error{Kind: domain.ErrTooLarge, Msg: msgTooLarge}
		}
		return domain.Invalid("Invalid multipart body")
	}
	for name, vs := range r.MultipartForm.Value {
		if len(vs) == 0 {
			continue
		}
		if err := checkText(name, vs[0]); err != nil {
			return err
		}
		f.values[name] = vs[0]
	}
	if fhs := r.MultipartForm.File[FileField]; len(fhs) > 0 {
		f.file = fhs[0]
	}
	return nil
}

func (f *Form) parseURLEncoded(r io.Reader) error {
	b, err := readAll(r)
	if err != nil {
		return err
	}
	vals, err := url.ParseQuery(string(b))
	if err != nil {
		return domain.Invalid("Invalid form body")
	}
	for name, vs := range vals {
		if err := checkText(name, vs[0]); err != nil {
			return err
		}
		f.values[name] = vs[0]
	}
	return nil
}

// DecodeJSON decodes a JSON body into v, for endpoints whose payload is
// nested (e.g. an order's items). An empty body leaves v as it is; a
// malformed body or a value of the wrong type is a 400 that says which field.
// Unknown fields are ignored, as the existing frontend sends extra ones.
func DecodeJSON(c *gin.Context, v any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mediaType, _, err := mime.ParseMediaType(ct)
		if err != nil || !isJSON(mediaType) {
			return domain.Invalid("Unsupported Content-Type: send application/json")
		}
	}
	body, empty, err := peekBody(c.Request)
	if err != nil || empty {
		return err
	}
	b, err := readAll(body)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return domain.Invalid("Invalid JSON: the body is not valid UTF-8")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return jsonError(err)
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return domain.Invalid(fmt.Sprintf("Invalid JSON at offset %d: %s", se.Offset, se.Error()))
	case errors.As(err, &te):
		if te.Field == "" {
			return domain.Invalid(fmt.Sprintf("Invalid payload: the body must be %s", jsonKind(te.Type)))
		}
		return domain.Invalid(fmt.Sprintf("Invalid payload: field %s must be %s", te.Field, jsonKind(te.Type)))
	default:
		return domain.Invalid("Invalid JSON")
	}
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of type " + t.String()
}
