package domain

import (
	"reflect"
	"strings"
	"testing"
)

// The log is kept forever and read by analysts and auditors: no event type
// may have a field for an email, a password, a token or a key.
func TestNoEventCarriesSecretsOrEmails(t *testing.T) {
	forbidden := []string{"email", "password", "hash", "token", "secret", "mac", "key1", "key2"}
	types := EventTypes()
	if len(types) == 0 {
		t.Fatal("no event types registered")
	}
	for _, name := range types {
		e, err := DecodeEvent(name, []byte(`{}`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rt := reflect.TypeOf(e)
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			tag := strings.ToLower(strings.Split(f.Tag.Get("json"), ",")[0] + " " + f.Name)
			for _, bad := range forbidden {
				if strings.Contains(tag, bad) && !(bad == "email" && f.Type.Kind() == reflect.Bool) && !(bad == "password" && f.Type.Kind() == reflect.Bool) {
					t.Errorf("%s.%s (%s) looks like personal or secret data", name, f.Name, tag)
				}
			}
		}
	}
}
