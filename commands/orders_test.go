package commands

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hustmusik/backend/domain"
)

func TestDecodeItems(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		items []domain.OrderItem
		msg   string
	}{
		{`[{"itemname":"Hust Musik Premium","itemprice":50000,"itemquantity":2}]`, []domain.OrderItem{{Name: "Hust Musik Premium", Price: 50000, Quantity: 2}}, ""},
		{`[{"itemname":"a","itemprice":1,"itemquantity":1,"extra":true}]`, []domain.OrderItem{{Name: "a", Price: 1, Quantity: 1}}, ""},
		{``, nil, msgNoItems},
		{`null`, nil, msgNoItems},
		{`[]`, nil, msgNoItems},
		{`{"itemname":"a"}`, nil, msgNoItems},
		{`[{"itemprice":1,"itemquantity":1}]`, nil, msgInvalidItems},
		{`[{"itemname":"a","itemprice":1.5,"itemquantity":1}]`, nil, msgInvalidItems},
		{`[{"itemname":"a","itemprice":1e3,"itemquantity":1}]`, nil, msgInvalidItems},
		// A number in a string is a number (forms and some clients quote them).
		{`[{"itemname":"a","itemprice":"1000","itemquantity":"2"}]`, []domain.OrderItem{{Name: "a", Price: 1000, Quantity: 2}}, ""},
		{`[{"itemname":"a","itemprice":"free","itemquantity":1}]`, nil, msgInvalidItems},
		{`[{"itemname":"a","itemprice":99999999999999999999,"itemquantity":1}]`, nil, msgInvalidItems},
		{`[{"itemname":7,"itemprice":1,"itemquantity":1}]`, nil, msgInvalidItems},
		{`["a"]`, nil, msgInvalidItems},
	} {
		items, err := decodeItems(json.RawMessage(tc.raw))
		if tc.msg != "" {
			var de *domain.Error
			if !errors.As(err, &de) || de.Msg != tc.msg {
				t.Errorf("%s: err %v, want %q", tc.raw, err, tc.msg)
			}
			continue
		}
		if err != nil || len(items) != len(tc.items) || items[0] != tc.items[0] {
			t.Errorf("%s: %v %v", tc.raw, items, err)
		}
	}
}

func TestReconcilerBackoffDoublesAndCaps(t *testing.T) {
	cfg := ReconcilerConfig{FirstCheck: 5 * time.Second, MaxBackoff: time.Minute}
	cfg.setDefaults()
	r := &Reconciler{cfg: cfg}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := r.backoff(i + 1); got != w {
			t.Errorf("attempt %d: %v, want %v", i+1, got, w)
		}
	}
	bad := ReconcilerConfig{FirstCheck: time.Minute, MaxBackoff: time.Second, Batch: -1}
	if err := bad.Validate(); err == nil {
		t.Fatal("a cap below the first step was accepted")
	}
}
