package commands

import "testing"

func TestSafeReturnURL(t *testing.T) {
	origins := []string{"https://app.hustmusik.vn", "http://localhost:3000"}
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"/", "/"},
		{"/playlist/42?tab=songs#top", "/playlist/42?tab=songs#top"},
		{"  /search/s%C6%A1n%20t%C3%B9ng  ", "/search/s%C6%A1n%20t%C3%B9ng"},
		{"https://app.hustmusik.vn/artist/7", "https://app.hustmusik.vn/artist/7"},
		{"HTTPS://APP.hustmusik.vn/x", "HTTPS://APP.hustmusik.vn/x"},
		{"http://localhost:3000/x", "http://localhost:3000/x"},
		{"http://localhost:3001/x", ""},                  // another port is another origin
		{"http://app.hustmusik.vn/x", ""},                // another scheme too
		{"https://app.hustmusik.vn.evil.example/", ""},   // a suffix is not the host
		{"https://evil.example@app.hustmusik.vn/", ""},   // user info
		{"https://app.hustmusik.vn@evil.example/", ""},   // user info hiding the real host
		{"//evil.example/x", ""},                         // scheme-relative
		{"/\\evil.example", ""},                          // browsers read \ as /
		{"\\\\evil.example", ""},                         //
		{"javascript:alert(document.cookie)", ""},        //
		{"data:text/html,<script>alert(1)</script>", ""}, //
		{"login", ""},                          // relative without a leading slash
		{"/x\n/y", ""},                         // control characters
		{"ftp://app.hustmusik.vn/x", ""},       //
		{"/" + string(make([]byte, 2100)), ""}, // too long
	} {
		if got := SafeReturnURL(tc.in, origins); got != tc.want {
			t.Errorf("SafeReturnURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUsernameFromName(t *testing.T) {
	long := ""
	for range 70 {
		long += "ễ"
	}
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"Sơn Tùng M-TP", "Sơn Tùng M-TP"},
		{"  Hòa \t Minzy\n", "Hòa Minzy"},
		{long, long[:64*len("ễ")]},
		{"bad \xff utf8", ""},
	} {
		if got := usernameFromName(tc.in); got != tc.want {
			t.Errorf("usernameFromName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRandomTokensAreLongAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := randomToken()
		if len(s) != 43 || seen[s] {
			t.Fatalf("token %q: length %d, repeated %v", s, len(s), seen[s])
		}
		seen[s] = true
	}
}
