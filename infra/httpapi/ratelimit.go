package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// RateLimit allows each client IP perMinute requests a minute on average,
// with bursts of up to burst, through the routes it is used on (a token
// bucket per IP). Beyond that it answers 429
// {"message": "Too many requests, please try again later.", "retryAfter": s}
// with a Retry-After header. Each call has its own buckets: use one returned
// handler on several groups to share them. name appears in the logs.
//
// The client IP is c.ClientIP(): the peer address, unless the server's
// TrustedProxies say whose X-Forwarded-For to believe.
func RateLimit(name string, perMinute, burst int) gin.HandlerFunc {
	return newLimiter(name, perMinute, burst, func(c *gin.Context) (string, bool) {
		return c.ClientIP(), true
	})
}

// RateLimitUser is RateLimit with a bucket per signed-in caller instead of
// per IP: one account spread over many addresses still gets perMinute. An
// anonymous caller passes untouched (RequireUser or a per-IP limit deals
// with it), so put it after RequireUser.
func RateLimitUser(name string, perMinute, burst int) gin.HandlerFunc {
	return newLimiter(name, perMinute, burst, func(c *gin.Context) (string, bool) {
		p := Principal(c)
		return "user:" + p.UserID, !p.Anonymous()
	})
}

// RateLimitField is RateLimit with a bucket per value of a body field
// (letter case folded), e.g. the email of a sign-in: guessing one account's
// password from many addresses is throttled as from one. A request whose
// body cannot be decoded, or lacks the field, passes untouched: the handler
// answers it (the decoded Form is cached, the handler reads it again).
func RateLimitField(name, field string, perMinute, burst int) gin.HandlerFunc {
	return newLimiter(name, perMinute, burst, func(c *gin.Context) (string, bool) {
		f, err := Fields(c)
		if err != nil {
			return "", false
		}
		v, ok := f.Get(field)
		v = strings.ToLower(strings.TrimSpace(v))
		return field + ":" + v, ok && v != ""
	})
}

func newLimiter(name string, perMinute, burst int, key func(*gin.Context) (string, bool)) gin.HandlerFunc {
	perMinute, burst = max(perMinute, 1), max(burst, 1)
	l := &limiter{
		name:    name,
		key:     key,
		limit:   rate.Limit(float64(perMinute) / 60),
		burst:   burst,
		clients: map[string]*client{},
		// A bucket idle this long is full again, the same as a new one:
		// forgetting it changes nothing for its client.
		idle: time.Duration(float64(burst) / (float64(perMinute) / 60) * float64(time.Second)),
	}
	return l.handle
}

type client struct {
	lim      *rate.Limiter
	lastSeen time.Time
}

type limiter struct {
	name  string
	key   func(*gin.Context) (string, bool) // the bucket of a request; false: not limited
	limit rate.Limit
	burst int
	idle  time.Duration

	mu        sync.Mutex
	clients   map[string]*client
	lastSweep time.Time
}

func (l *limiter) handle(c *gin.Context) {
	set := settingsOf(c)
	if set.rateLimit.Disabled {
		c.Next()
		return
	}
	now := time.Now()
	key, limited := l.key(c)
	if !limited {
		c.Next()
		return
	}
	ok, wait := l.take(key, now, set.rateLimit.MaxClients)
	if ok {
		c.Next()
		return
	}
	retryAfter := max(int(math.Ceil(wait.Seconds())), 1)
	c.Header("Retry-After", strconv.Itoa(retryAfter))
	// The bucket key may be an email: log the client IP, which is no secret
	// to the operator, rather than the key.
	Logger(c).Info("rate limited", "limiter", l.name, "client_ip", c.ClientIP(), "retry_after_s", retryAfter)
	c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{
		"message":    "Too many requests, please try again later.",
		"retryAfter": retryAfter,
	})
}

// take spends one token of ip's bucket, or says how long until one is there.
func (l *limiter) take(ip string, now time.Time, maxClients int) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cl, ok := l.clients[ip]
	if !ok {
		if len(l.clients) >= maxClients || now.Sub(l.lastSweep) > time.Minute {
			l.sweep(now, maxClients)
		}
		cl = &client{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[ip] = cl
	}
	cl.lastSeen = now
	r := cl.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused request must not use up a later token
		return false, d
	}
	return true, 0
}

// sweep forgets idle buckets and, if a flood of addresses still fills the
// table, arbitrary ones: memory stays bounded, at worst some client gets a
// fresh bucket early.
func (l *limiter) sweep(now time.Time, maxClients int) {
	l.lastSweep = now
	for ip, cl := range l.clients {
		if now.Sub(cl.lastSeen) >= l.idle {
			delete(l.clients, ip)
		}
	}
	for ip := range l.clients {
		if len(l.clients) < maxClients {
			break
		}
		delete(l.clients, ip)
	}
}
