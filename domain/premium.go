package domain

import "time"

// PremiumExtended lives on the buyer's user stream: Premium is part of the
// account. OrderID makes the extension idempotent: a retried order process
// finds the order already counted and extends nothing.
type PremiumExtended struct {
	UserID  string    `json:"user_id"`
	OrderID string    `json:"order_id"`
	Days    int       `json:"days"`
	From    time.Time `json:"from"`
	Until   time.Time `json:"until"`
}

func (PremiumExtended) EventType() string { return "PremiumExtended" }

func init() { register[PremiumExtended]() }

func (u *User) applyPremium(e PremiumExtended) {
	if u.premiumOrders == nil {
		u.premiumOrders = map[string]bool{}
	}
	u.premiumOrders[e.OrderID] = true
	u.PremiumUntil = e.Until
}

// ExtendPremium adds days of Premium bought by order orderID, from the
// later of now and the current end. Each order counts once; a deleted
// account gets nothing (and no error: there is nobody left to serve).
func (u *User) ExtendPremium(orderID string, days int, now time.Time) error {
	if !u.Exists() || days <= 0 || u.premiumOrders[orderID] {
		return nil
	}
	from := now.UTC()
	if u.PremiumUntil.After(from) {
		from = u.PremiumUntil
	}
	until := from.Add(time.Duration(days) * 24 * time.Hour)
	u.Record(u, PremiumExtended{UserID: u.ID, OrderID: orderID, Days: days, From: from, Until: until})
	return nil
}

// HasPremiumFrom reports whether order orderID already extended Premium.
func (u *User) HasPremiumFrom(orderID string) bool { return u.premiumOrders[orderID] }
