package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":7554" || c.DataDir != "./.hustmusik" || c.PublicURL != "http://localhost:7554" ||
		len(c.FrontendOrigins) != 1 || c.FrontendOrigins[0] != "http://localhost:3000" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestValidateJoinsEveryProblem(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"DATABASE_URL": "mysql://x", "JWT_SECRET": "short", "S3_ENDPOINT": "http://s3.local",
		"HUSTMUSIK_LOG_LEVEL": "loud", "ZALO_APP_ID": "2553",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"DATABASE_URL", "JWT_SECRET", "S3_BUCKET", "HUSTMUSIK_LOG_LEVEL", "ZALO_KEY1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestStringMasksSecrets(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"DATABASE_URL": "postgres://app:hunter2hunter2@db:5432/hust", "JWT_SECRET": strings.Repeat("s", 40),
		"ZALO_APP_ID": "2553", "ZALO_KEY1": "key1secretvalue", "ZALO_KEY2": "key2secretvalue",
		"ADMIN_EMAILS": "boss@hust.vn", "CLOUDINARY_URL": "cloudinary://123:abcsecret@demo",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, leak := range []string{"hunter2", strings.Repeat("s", 40), "key1secret", "key2secret", "boss@hust.vn", "abcsecret"} {
		if strings.Contains(s, leak) {
			t.Errorf("String() leaks %q:\n%s", leak, s)
		}
	}
}

func TestJWTSecretIsGeneratedOnceAndKept(t *testing.T) {
	c := Config{DataDir: t.TempDir()}
	a, err := c.LoadJWTSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.LoadJWTSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 32 || string(a) != string(b) {
		t.Fatalf("secret not kept: %q vs %q", a, b)
	}
}

func TestPublicURLFollowsTheListenAddress(t *testing.T) {
	for addr, want := range map[string]string{"": "http://localhost:7554", ":8080": "http://localhost:8080",
		"127.0.0.1:7620": "http://127.0.0.1:7620", "0.0.0.0:9000": "http://localhost:9000"} {
		c, err := FromEnv(env(map[string]string{"HUSTMUSIK_ADDR": addr}))
		if err != nil {
			t.Fatal(err)
		}
		if c.PublicURL != want {
			t.Errorf("HUSTMUSIK_ADDR=%q: PUBLIC_URL %q, want %q", addr, c.PublicURL, want)
		}
	}
	c, _ := FromEnv(env(map[string]string{"HUSTMUSIK_ADDR": ":8080", "PUBLIC_URL": "https://api.hust.vn/"}))
	if c.PublicURL != "https://api.hust.vn" {
		t.Errorf("an explicit PUBLIC_URL wins: %q", c.PublicURL)
	}
}

func TestPprofAddrMustBeLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"":               true, // off
		"127.0.0.1:6060": true,
		"[::1]:6060":     true,
		"localhost:6060": true,
		":6060":          false, // every interface
		"0.0.0.0:6060":   false,
		"10.0.0.5:6060":  false,
		"127.0.0.1":      false, // no port
	} {
		_, err := FromEnv(env(map[string]string{"HUSTMUSIK_PPROF_ADDR": addr}))
		if (err == nil) != ok {
			t.Errorf("HUSTMUSIK_PPROF_ADDR=%q: error %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestAnswerCacheSwitch(t *testing.T) {
	for v, off := range map[string]bool{"": false, "on": false, "ON": false, "off": true, "Off": true} {
		c, err := FromEnv(env(map[string]string{"HUSTMUSIK_ANSWER_CACHE": v}))
		if err != nil || c.NoAnswerCache != off {
			t.Errorf("HUSTMUSIK_ANSWER_CACHE=%q: NoAnswerCache %v, error %v; want %v", v, c.NoAnswerCache, err, off)
		}
	}
	if _, err := FromEnv(env(map[string]string{"HUSTMUSIK_ANSWER_CACHE": "sometimes"})); err == nil || !strings.Contains(err.Error(), "HUSTMUSIK_ANSWER_CACHE") {
		t.Errorf("HUSTMUSIK_ANSWER_CACHE=sometimes: %v", err)
	}
}
