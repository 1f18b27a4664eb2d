package zalopay_test

import (
	"testing"

	"github.com/hustmusik/backend/infra/zalopay"
)

// FuzzParseCallback: a callback is accepted only when its MAC is key2's
// HMAC of the data exactly as received and the data names an order.
func FuzzParseCallback(f *testing.F) {
	const key2 = "fuzz-key2"
	c, err := zalopay.New(zalopay.Config{AppID: "2553", Key1: "k1", Key2: key2, Endpoint: "https://sb-openapi.zalopay.vn",
		CallbackURL: "https://api.example.vn/v1/order/checkout/callback"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	data := `{"app_id":2553,"app_trans_id":"261129_0a1b2c3d4e5f60718293","app_time":1764374400000,"app_user":"u","amount":50000,"zp_trans_id":1,"server_time":1,"channel":38,"merchant_user_id":"m","user_fee_amount":0,"discount_amount":0}`
	f.Add(data, zalopay.MAC(key2, data))
	f.Add(data, "")
	f.Add(data+" ", zalopay.MAC(key2, data))
	f.Add(`{}`, zalopay.MAC(key2, `{}`))
	f.Add(`{"app_trans_id":5}`, zalopay.MAC(key2, `{"app_trans_id":5}`))
	f.Add(`not json`, zalopay.MAC(key2, `not json`))
	f.Fuzz(func(t *testing.T, data, mac string) {
		d, err := c.ParseCallback(data, mac)
		if err != nil {
			return
		}
		if !zalopay.ValidMAC(key2, data, mac) || d.AppTransID == "" {
			t.Fatalf("accepted %q with mac %q: %+v", data, mac, d)
		}
	})
}
