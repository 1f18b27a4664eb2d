package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// OrdersHTTP holds the Gin handlers of the payment writes.
type OrdersHTTP struct {
	orders *Orders
	wait   httpapi.Waiter
}

// NewOrdersHTTP makes the handlers; wait is the projection runtime.
func NewOrdersHTTP(orders *Orders, wait httpapi.Waiter) *OrdersHTTP {
	return &OrdersHTTP{orders: orders, wait: wait}
}

const (
	msgNoItems      = "Items array cannot be empty"
	msgInvalidItems = "Invalid items format or values"
	msgGatewayDown  = "Payment gateway unavailable, please try again later"
)

// checkoutBody is the checkout request; items are decoded by hand so that
// every malformed item gets the contract's one message.
type checkoutBody struct {
	Items  json.RawMessage `json:"items"`
	UserID json.RawMessage `json:"userid"`
}

// decodeItems turns the items JSON into order items: an array of objects
// with a non-empty itemname and whole positive itemprice and itemquantity
// (JSON numbers, or numbers in strings as some clients send them).
// Missing, null or empty is "cannot be empty"; anything else malformed is
// "invalid format or values". Amount limits are the domain's.
func decodeItems(raw json.RawMessage) ([]domain.OrderItem, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, domain.Invalid(msgNoItems)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, domain.Invalid(msgNoItems)
	}
	if len(list) == 0 {
		return nil, domain.Invalid(msgNoItems)
	}
	items := make([]domain.OrderItem, 0, len(list))
	for _, rawItem := range list {
		var it struct {
			Name     *string     `json:"itemname"`
			Price    json.Number `json:"itemprice"`
			Quantity json.Number `json:"itemquantity"`
		}
		dec := json.NewDecoder(bytes.NewReader(rawItem))
		dec.UseNumber()
		if err := dec.Decode(&it); err != nil || it.Name == nil {
			return nil, domain.Invalid(msgInvalidItems)
		}
		price, err1 := strconv.ParseInt(string(it.Price), 10, 64)
		qty, err2 := strconv.ParseInt(string(it.Quantity), 10, 64)
		if err1 != nil || err2 != nil {
			return nil, domain.Invalid(msgInvalidItems)
		}
		items = append(items, domain.OrderItem{Name: *it.Name, Price: price, Quantity: qty})
	}
	return items, nil
}

// gatewayDown answers 502 after waiting for whatever was written; the
// order's id lets the client (and support) find its trail.
func (h *OrdersHTTP) gatewayDown(c *gin.Context, w Written, id string, err error) {
	if w.Position > 0 {
		httpapi.Written(c, h.wait, w.Position, w.Types)
	}
	httpapi.Logger(c).Warn("payment gateway unavailable", "route", c.FullPath(), "app_trans_id", id, "err", err)
	c.AbortWithStatusJSON(http.StatusBadGateway, gin.H{"error": msgGatewayDown, "app_trans_id": id})
}

// Checkout serves POST /v1/order/checkout: 200 with ZaloPay's create answer
// and the order's app_trans_id, unwrapped as the old backend answered.
func (h *OrdersHTTP) Checkout(c *gin.Context) {
	if !h.orders.Configured() {
		httpapi.Error(c, h.orders.configured())
		return
	}
	var body checkoutBody
	if err := httpapi.DecodeJSON(c, &body); err != nil {
		httpapi.Error(c, err)
		return
	}
	p := httpapi.Principal(c)
	if u := bytes.TrimSpace(body.UserID); len(u) > 0 && !bytes.Equal(u, []byte("null")) {
		var id string
		if err := json.Unmarshal(u, &id); err != nil || id != p.UserID {
			httpapi.Error(c, domain.Forbidden("You can only create orders for yourself"))
			return
		}
	}
	items, err := decodeItems(body.Items)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	res, err := h.orders.Checkout(c.Request.Context(), p, items)
	if errors.Is(err, ErrGatewayUnavailable) {
		h.gatewayDown(c, res.Written, res.AppTransID, err)
		return
	}
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Written(c, h.wait, res.Written.Position, res.Written.Types)
	a := res.Answer
	c.JSON(http.StatusOK, gin.H{
		"return_code": a.ReturnCode, "return_message": a.ReturnMessage,
		"sub_return_code": a.SubReturnCode, "sub_return_message": a.SubReturnMessage,
		"zp_trans_token": a.ZPTransToken, "order_url": a.OrderURL, "order_token": a.OrderToken,
		"qr_code": a.QRCode, "app_trans_id": res.AppTransID,
	})
}

// Status serves POST and GET /v1/order/:app_trans_id: ZaloPay's query
// answer, unwrapped; what it said is recorded on the order.
func (h *OrdersHTTP) Status(c *gin.Context) {
	ans, w, err := h.orders.Status(c.Request.Context(), httpapi.Principal(c), c.Param("app_trans_id"))
	if errors.Is(err, ErrGatewayUnavailable) {
		h.gatewayDown(c, w, c.Param("app_trans_id"), err)
		return
	}
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	if w.Position > 0 {
		httpapi.Written(c, h.wait, w.Position, w.Types)
	}
	c.JSON(http.StatusOK, ans)
}

// Callback serves POST /v1/order/checkout/callback, ZaloPay's payment
// notification: always 200 with a return_code ZaloPay understands.
func (h *OrdersHTTP) Callback(c *gin.Context) {
	if !h.orders.Configured() {
		httpapi.Error(c, h.orders.configured())
		return
	}
	var body struct {
		Data string `json:"data"`
		MAC  string `json:"mac"`
		Type int    `json:"type"`
	}
	if err := httpapi.DecodeJSON(c, &body); err != nil || body.Data == "" {
		httpapi.Logger(c).Warn("payment callback refused: malformed body")
		c.JSON(http.StatusOK, CallbackAnswer{ReturnCode: -1, ReturnMessage: "mac not equal"})
		return
	}
	ans, w, err := h.orders.Callback(c.Request.Context(), body.Data, body.MAC, body.Type)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	if w.Position > 0 {
		httpapi.Written(c, h.wait, w.Position, w.Types)
	}
	c.JSON(http.StatusOK, ans)
}
