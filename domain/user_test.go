package domain

import (
	"errors"
	"strings"
	"testing"
)

func registered(t *testing.T) *User {
	t.Helper()
	u := NewUser("u1")
	if err := u.Register("Lan", "VN", "", RoleUser, "password"); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUserRegisterValidates(t *testing.T) {
	for _, tc := range []struct {
		name, username, country string
		kind                    error
	}{
		{"blank username", "   ", "", ErrValidation},
		{"long username", strings.Repeat("á", 65), "", ErrValidation},
		{"invalid UTF-8", "\xff\xfe", "", ErrValidation},
		{"long country", "Lan", strings.Repeat("x", 65), ErrValidation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewUser("u").Register(tc.username, tc.country, "", RoleUser, "password")
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
		})
	}
	u := registered(t)
	if err := u.Register("Again", "", "", RoleUser, "password"); !errors.Is(err, ErrConflict) {
		t.Fatalf("second register: %v", err)
	}
}

func TestUserChangeProfileRecordsOnlyWhatChanges(t *testing.T) {
	u := registered(t)
	same, other := "VN", "Việt Nam"
	if err := u.ChangeProfile(Profile{Country: &same}); err != nil {
		t.Fatal(err)
	}
	if len(u.Changes()) != 1 { // only UserRegistered
		t.Fatalf("an unchanged field recorded an event: %v", u.Changes())
	}
	if err := u.ChangeProfile(Profile{Country: &other}); err != nil {
		t.Fatal(err)
	}
	ev, ok := u.Changes()[1].(UserProfileChanged)
	if !ok || ev.Country == nil || *ev.Country != other || ev.Username != nil {
		t.Fatalf("event: %#v", u.Changes()[1])
	}
	if err := u.ChangeProfile(Profile{}); !errors.Is(err, ErrValidation) || err.Error() != "Payload must have at least one field" {
		t.Fatalf("empty: %v", err)
	}
}

func TestOnlyAdminsChangeRolesAndDelete(t *testing.T) {
	u := registered(t)
	user := Principal{UserID: "u1", Role: RoleUser}
	admin := Principal{UserID: "a", Role: RoleAdmin}
	if err := u.ChangeRole(RoleAdmin, user); !errors.Is(err, ErrForbidden) {
		t.Fatalf("user made themselves admin: %v", err)
	}
	if err := u.ChangeRole("Emperor", admin); !errors.Is(err, ErrValidation) {
		t.Fatalf("unknown role: %v", err)
	}
	if err := u.ChangeRole(RoleArtistManager, admin); err != nil || u.Role != RoleArtistManager {
		t.Fatalf("admin change: %v %v", err, u.Role)
	}
	if err := u.Delete(user); !errors.Is(err, ErrForbidden) {
		t.Fatalf("user deleted: %v", err)
	}
	if err := u.Delete(admin); err != nil || u.Exists() {
		t.Fatalf("delete: %v", err)
	}
	if err := u.ChangeProfile(Profile{Country: new(string)}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("change after delete: %v", err)
	}
}

func TestEventsRoundTripThroughTheRegistry(t *testing.T) {
	name := "Đen Vâu"
	for _, e := range []Event{
		UserRegistered{UserID: "u", Username: "Sơn Tùng M-TP", Role: RoleUser, Method: "password"},
		UserProfileChanged{UserID: "u", Username: &name},
		UserRoleChanged{UserID: "u", Role: RoleAdmin, PreviousRole: RoleUser},
		UserCredentialsChanged{UserID: "u", Password: true},
		UserDeleted{UserID: "u"},
	} {
		raw, err := jsonMarshal(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEvent(e.EventType(), raw)
		if err != nil {
			t.Fatal(err)
		}
		raw2, _ := jsonMarshal(back)
		if string(raw) != string(raw2) {
			t.Fatalf("%s: %s != %s", e.EventType(), raw, raw2)
		}
	}
	if _, err := DecodeEvent("NoSuchEvent", []byte(`{}`)); err == nil {
		t.Fatal("unknown type decoded")
	}
}
