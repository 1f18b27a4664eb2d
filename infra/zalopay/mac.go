package zalopay

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// MAC is ZaloPay's message authentication code: HMAC-SHA256 of data under
// key, in lower-case hex.
func MAC(key, data string) string {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil))
}

// CreateMACInput is the text a create request signs with key1:
// app_id|app_trans_id|app_user|amount|app_time|embed_data|item.
func CreateMACInput(appID, appTransID, appUser string, amount, appTime int64, embedData, item string) string {
	return strings.Join([]string{appID, appTransID, appUser, strconv.FormatInt(amount, 10),
		strconv.FormatInt(appTime, 10), embedData, item}, "|")
}

// QueryMACInput is the text a query request signs with key1:
// app_id|app_trans_id|key1 (ZaloPay's choice: the key is in the input too).
func QueryMACInput(appID, appTransID, key1 string) string {
	return appID + "|" + appTransID + "|" + key1
}

// ValidMAC reports, in constant time, whether mac is MAC(key, data). The
// callback's data is verified exactly as received: re-encoding it would
// change the bytes ZaloPay signed.
func ValidMAC(key, data, mac string) bool {
	want := MAC(key, data)
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(mac))) == 1
}

// vietnam is UTC+7 with no daylight saving: ZaloPay reconciles transactions
// by the date in Vietnam, so app_trans_id starts with that date.
func vietnam() *time.Location { return time.FixedZone("ICT", 7*60*60) }

// VietnamDate is t's date in Vietnam as yyMMdd.
func VietnamDate(t time.Time) string { return t.In(vietnam()).Format("060102") }

// MaxAppTransID is ZaloPay's limit on app_trans_id.
const MaxAppTransID = 40

// NewAppTransID makes yyMMdd_<unique>: the date in Vietnam at now and 20
// random hex digits (80 bits: no two orders of a day collide in practice,
// and the id says nothing about the buyer).
func NewAppTransID(now time.Time) string {
	b := make([]byte, 10)
	rand.Read(b)
	return VietnamDate(now) + "_" + hex.EncodeToString(b)
}

// ValidAppTransID reports whether id has the shape NewAppTransID makes: a
// path parameter that fails it is not an order.
func ValidAppTransID(id string) bool {
	if len(id) < 8 || len(id) > MaxAppTransID || id[6] != '_' {
		return false
	}
	if _, err := time.Parse("060102", id[:6]); err != nil {
		return false
	}
	for _, c := range id[7:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
