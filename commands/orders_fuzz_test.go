package commands

import (
	"errors"
	"testing"

	"github.com/hustmusik/backend/domain"
)

// FuzzDecodeItems: checkout items decode into named items with the numbers
// sent, or the body is a 400; never a panic.
func FuzzDecodeItems(f *testing.F) {
	for _, s := range []string{`[{"itemname":"Hust Musik Premium","itemprice":50000,"itemquantity":1}]`,
		`[{"itemname":"x","itemprice":"50000","itemquantity":"2"}]`, `[]`, `null`, ``, `{}`, `[1]`,
		`[{"itemname":null,"itemprice":1,"itemquantity":1}]`, `[{"itemname":"x","itemprice":1.5,"itemquantity":1}]`,
		`[{"itemname":"x","itemprice":99999999999999999999,"itemquantity":1}]`, "[{\"itemname\":\"\xff\"}]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		items, err := decodeItems([]byte(raw))
		if err != nil {
			if !errors.Is(err, domain.ErrValidation) {
				t.Fatalf("decodeItems(%q): %v is not a 400", raw, err)
			}
			return
		}
		if len(items) == 0 {
			t.Fatalf("decodeItems(%q): no items and no error", raw)
		}
	})
}
