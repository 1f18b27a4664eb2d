package apidocs

import "strings"

// object is a JSON value of the document under construction.
type object = map[string]any

// The schema constructors below keep the document short to write and exact
// to check: answer objects are closed (additionalProperties false), so a
// field the server adds without documenting it fails the drift test.

func str(example string) object {
	s := object{"type": "string"}
	if example != "" {
		s["example"] = example
	}
	return s
}

func uuidStr(example string) object {
	return object{"type": "string", "format": "uuid", "example": example}
}

func dateTime(example string) object {
	return object{"type": "string", "format": "date-time", "example": example}
}

func integer(example int64) object { return object{"type": "integer", "example": example} }

func boolean(example bool) object { return object{"type": "boolean", "example": example} }

func enum(example string, values ...string) object {
	return object{"type": "string", "enum": values, "example": example}
}

func array(items object) object { return object{"type": "array", "items": items} }

func ref(name string) object { return object{"$ref": "#/components/schemas/" + name} }

// nullable makes a schema also accept null (OpenAPI 3.1: a type array).
func nullable(s object) object {
	out := object{}
	for k, v := range s {
		out[k] = v
	}
	out["type"] = []string{s["type"].(string), "null"}
	return out
}

// closed is an answer object: every property listed is required unless named
// in optional, and no other property may appear.
func closed(props object, optional ...string) object {
	opt := map[string]bool{}
	for _, o := range optional {
		opt[o] = true
	}
	var required []string
	for _, name := range sortedKeys(props) {
		if !opt[name] {
			required = append(required, name)
		}
	}
	s := object{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// open is a request object: listed properties, others ignored by the server.
func open(props object, required ...string) object {
	s := object{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func withDescription(s object, d string) object {
	out := object{}
	for k, v := range s {
		out[k] = v
	}
	out["description"] = d
	return out
}

// dataOf is the {"data": ...} envelope.
func dataOf(s object) object { return closed(object{"data": s}) }

// listOf is the {"count", "data": [...]} envelope.
func listOf(item object) object {
	return closed(object{"count": withDescription(integer(1), "total matching rows, not only this page"),
		"data": array(item)})
}

// oasPath turns a gin path (/v1/song/:id) into an OpenAPI one (/v1/song/{id}).
func oasPath(ginPath string) string {
	parts := strings.Split(ginPath, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// GinPathToOpenAPI is oasPath for the drift test, which walks gin's routes.
func GinPathToOpenAPI(ginPath string) string { return oasPath(ginPath) }

// pathParams are the names of a gin path's parameters, in order.
func pathParams(ginPath string) []string {
	var names []string
	for _, p := range strings.Split(ginPath, "/") {
		if strings.HasPrefix(p, ":") {
			names = append(names, p[1:])
		}
	}
	return names
}
