package anomaly

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. The signature is HMAC-SHA256 with the shared secret over
// the raw request body, hex-encoded: "sha256=<64 hex digits>". The body
// carries the same timestamp as the timestamp header (sent_at), so the
// signature covers it: receivers reject deliveries whose sent_at is too old
// (replays) and deduplicate retries by the delivery id.
const (
	HeaderSignature = "X-Sunproof-Signature"
	HeaderTimestamp = "X-Sunproof-Timestamp" // Unix seconds, = body's sent_at
	HeaderDelivery  = "X-Sunproof-Delivery"  // same for every attempt of one delivery
	HeaderEvent     = "X-Sunproof-Event"     // "alerts"
)

// WebhookPayload is the JSON body of a webhook delivery: the alerts that
// changed in one scan.
type WebhookPayload struct {
	Version    int            `json:"version"` // AlertMessageVersion
	DeliveryID string         `json:"delivery_id"`
	SentAt     int64          `json:"sent_at"` // Unix seconds
	Alerts     []AlertMessage `json:"alerts"`
}

// WebhookConfig configures a WebhookNotifier.
type WebhookConfig struct {
	URL    string
	Secret []byte // HMAC key; must not be empty
	// MaxAttempts bounds the tries per delivery (4). Network errors, 408,
	// 425, 429 and 5xx are retried; other statuses are final.
	MaxAttempts int
	// Backoff is the wait before the second attempt (500 ms); it doubles per
	// attempt up to MaxBackoff (10 s), with ±20 % jitter. A Retry-After of
	// at most MaxBackoff seconds is honoured.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds each attempt (10 s).
	Timeout time.Duration
	// MaxAlerts splits a larger set of changes into several deliveries (500).
	MaxAlerts int
}

// DefaultWebhookConfig returns the defaults above for url and secret.
func DefaultWebhookConfig(url string, secret []byte) WebhookConfig {
	return WebhookConfig{URL: url, Secret: secret, MaxAttempts: 4, Backoff: 500 * time.Millisecond,
		MaxBackoff: 10 * time.Second, Timeout: 10 * time.Second, MaxAlerts: 500}
}

// Validate checks the configuration.
func (c WebhookConfig) Validate() error {
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		return fmt.Errorf("webhook url %q: want http:// or https://: %w", c.URL, ErrInvalidConfig)
	}
	if len(c.Secret) == 0 {
		return fmt.Errorf("webhook %s: empty secret: %w", c.URL, ErrInvalidConfig)
	}
	if c.MaxAttempts < 1 || c.Backoff < 0 || c.MaxBackoff < c.Backoff || c.Timeout <= 0 || c.MaxAlerts < 1 {
		return fmt.Errorf("webhook %s: attempts %d, backoff %s..%s, timeout %s, max alerts %d: %w",
			c.URL, c.MaxAttempts, c.Backoff, c.MaxBackoff, c.Timeout, c.MaxAlerts, ErrInvalidConfig)
	}
	return nil
}

// WebhookNotifier POSTs the changed alerts of each scan to a URL as a
// signed WebhookPayload. It is safe for concurrent use.
type WebhookNotifier struct {
	cfg    WebhookConfig
	client *http.Client
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

// NewWebhookNotifier returns a notifier; hc may be nil.
func NewWebhookNotifier(cfg WebhookConfig, hc *http.Client) (*WebhookNotifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &WebhookNotifier{cfg: cfg, client: hc, now: time.Now, sleep: sleepCtx}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Sign returns the X-Sunproof-Signature value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a received X-Sunproof-Signature header against
// body in constant time.
func VerifySignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Notify implements Notifier.
func (w *WebhookNotifier) Notify(ctx context.Context, changed []Alert) error {
	var errs []error
	for start := 0; start < len(changed); start += w.cfg.MaxAlerts {
		end := min(start+w.cfg.MaxAlerts, len(changed))
		if err := w.deliver(ctx, changed[start:end]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PermanentError is a delivery the receiver refused (a status not worth
// retrying).
type PermanentError struct {
	Status int
	Body   string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("status %d: %s", e.Status, e.Body)
}

func (w *WebhookNotifier) deliver(ctx context.Context, alerts []Alert) error {
	sentAt := w.now().Unix()
	p := WebhookPayload{Version: AlertMessageVersion, SentAt: sentAt, Alerts: make([]AlertMessage, len(alerts))}
	ids := sha256.New()
	for i := range alerts {
		p.Alerts[i] = AlertMessage{Version: AlertMessageVersion, Alert: alerts[i]}
		fmt.Fprintf(ids, "%s|%s|%d|%d\n", alerts[i].ID, alerts[i].State, alerts[i].Scans, alerts[i].UpdatedAt.UnixNano())
	}
	p.DeliveryID = hex.EncodeToString(ids.Sum(nil)[:16])
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook %s: encode: %w", w.cfg.URL, err)
	}
	sig := Sign(w.cfg.Secret, body)
	var last error
	wait := w.cfg.Backoff
	for attempt := 1; attempt <= w.cfg.MaxAttempts; attempt++ {
		retryAfter, err := w.post(ctx, body, sig, p.DeliveryID, sentAt)
		if err == nil {
			return nil
		}
		last = err
		var pe *PermanentError
		if errors.As(err, &pe) || ctx.Err() != nil || attempt == w.cfg.MaxAttempts {
			break
		}
		d := time.Duration(float64(wait) * (0.8 + 0.4*rand.Float64()))
		if retryAfter > 0 && retryAfter <= w.cfg.MaxBackoff {
			d = max(d, retryAfter)
		}
		if err := w.sleep(ctx, d); err != nil {
			last = errors.Join(last, err)
			break
		}
		wait = min(2*wait, w.cfg.MaxBackoff)
	}
	return fmt.Errorf("webhook %s: delivery %s of %d alerts failed: %w", w.cfg.URL, p.DeliveryID, len(alerts), last)
}

// post makes one attempt; it returns the Retry-After duration, if any.
func (w *WebhookNotifier) post(ctx context.Context, body []byte, sig, delivery string, sentAt int64) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, &PermanentError{Body: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sunproof-analyze/1")
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(sentAt, 10))
	req.Header.Set(HeaderDelivery, delivery)
	req.Header.Set(HeaderEvent, "alerts")
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return 0, nil
	}
	var ra time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		ra = time.Duration(s) * time.Second
	}
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooEarly, c == http.StatusTooManyRequests, c >= 500:
		return ra, fmt.Errorf("status %d: %s", c, bytes.TrimSpace(msg))
	default:
		return 0, &PermanentError{Status: c, Body: string(bytes.TrimSpace(msg))}
	}
}
