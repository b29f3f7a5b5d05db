package anomaly

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func testAlerts() []Alert {
	t0 := time.Date(2024, 6, 21, 10, 0, 0, 0, time.UTC)
	return []Alert{
		{ID: "inv-1/zero_output/1", DeviceID: "inv-1", SiteID: "s", Type: TypeZeroOutput, Severity: SeverityCritical,
			State: StateOpen, Span: Span{From: t0, To: t0.Add(2 * time.Hour)}, Start: t0, Scans: 1, Anchored: AnchoringFull,
			Evidence: map[string]float64{"duration_s": 7200}},
		{ID: "inv-2/stuck/1", DeviceID: "inv-2", SiteID: "s", Type: TypeStuck, Severity: SeverityWarning,
			State: StateResolved, Span: Span{From: t0, To: t0.Add(time.Hour)}, Start: t0, Scans: 2, Anchored: AnchoringUnknown},
	}
}

// receiver is a webhook endpoint that checks signatures and answers with
// the statuses given in turn (200 once they run out).
type receiver struct {
	t        *testing.T
	secret   []byte
	mu       sync.Mutex
	statuses []int
	got      []WebhookPayload
	attempts int
	bad      int
	delivery map[string]int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if !VerifySignature(r.secret, body, req.Header.Get(HeaderSignature)) {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("payload: %v", err)
	}
	if ts := req.Header.Get(HeaderTimestamp); ts != strconv.FormatInt(p.SentAt, 10) {
		r.t.Errorf("timestamp header %q, body sent_at %d", ts, p.SentAt)
	}
	if d := req.Header.Get(HeaderDelivery); d != p.DeliveryID {
		r.t.Errorf("delivery header %q, body %q", d, p.DeliveryID)
	}
	if r.delivery == nil {
		r.delivery = map[string]int{}
	}
	r.delivery[p.DeliveryID]++
	if len(r.statuses) > 0 {
		s := r.statuses[0]
		r.statuses = r.statuses[1:]
		if s != http.StatusOK {
			http.Error(w, "nope", s)
			return
		}
	}
	r.got = append(r.got, p)
}

func newTestWebhook(t *testing.T, url string, secret []byte, attempts int) (*WebhookNotifier, *[]time.Duration) {
	t.Helper()
	cfg := DefaultWebhookConfig(url, secret)
	cfg.MaxAttempts = attempts
	n, err := NewWebhookNotifier(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	n.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return n, &waits
}

func TestWebhookSignedDelivery(t *testing.T) {
	secret := []byte("s3cret")
	cases := []struct {
		name       string
		statuses   []int
		attempts   int
		wantErr    bool
		wantPerm   bool
		wantTries  int
		wantWaits  int
		wantStored int
	}{
		{"ok", nil, 4, false, false, 1, 0, 1},
		{"retry 503 then ok", []int{503, 502}, 4, false, false, 3, 2, 1},
		{"429 retried", []int{429}, 4, false, false, 2, 1, 1},
		{"bounded", []int{500, 500, 500, 500, 500}, 3, true, false, 3, 2, 0},
		{"400 final", []int{400}, 4, true, true, 1, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rcv := &receiver{t: t, secret: secret, statuses: c.statuses}
			srv := httptest.NewServer(rcv)
			defer srv.Close()
			n, waits := newTestWebhook(t, srv.URL, secret, c.attempts)
			err := n.Notify(context.Background(), testAlerts())
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %t", err, c.wantErr)
			}
			var pe *PermanentError
			if errors.As(err, &pe) != c.wantPerm {
				t.Errorf("permanent = %t, want %t (%v)", !c.wantPerm, c.wantPerm, err)
			}
			if rcv.attempts != c.wantTries || len(*waits) != c.wantWaits || len(rcv.got) != c.wantStored {
				t.Errorf("attempts %d waits %v stored %d; want %d, %d, %d", rcv.attempts, *waits, len(rcv.got), c.wantTries, c.wantWaits, c.wantStored)
			}
			if len(rcv.delivery) != 1 {
				t.Errorf("deliveries %v: retries must reuse the delivery id", rcv.delivery)
			}
			for i := 1; i < len(*waits); i++ {
				if (*waits)[i] < (*waits)[i-1] {
					t.Errorf("backoff not growing: %v", *waits)
				}
			}
			if c.wantStored == 1 {
				p := rcv.got[0]
				if len(p.Alerts) != 2 || p.Alerts[0].Alert.ID != "inv-1/zero_output/1" || p.Alerts[0].Alert.Anchored != AnchoringFull ||
					p.Alerts[1].Alert.State != StateResolved || p.Alerts[0].Alert.Evidence["duration_s"] != 7200 {
					t.Errorf("payload %+v", p)
				}
			}
		})
	}
}

func TestWebhookWrongSecretRejected(t *testing.T) {
	rcv := &receiver{t: t, secret: []byte("right")}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	n, _ := newTestWebhook(t, srv.URL, []byte("wrong"), 4)
	err := n.Notify(context.Background(), testAlerts())
	var pe *PermanentError
	if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized || rcv.bad != 1 || rcv.attempts != 1 {
		t.Fatalf("err %v, bad %d, attempts %d", err, rcv.bad, rcv.attempts)
	}
}

func TestWebhookSplitsAndSkipsEmpty(t *testing.T) {
	rcv := &receiver{t: t, secret: []byte("k")}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	n, _ := newTestWebhook(t, srv.URL, []byte("k"), 1)
	if err := n.Notify(context.Background(), nil); err != nil || rcv.attempts != 0 {
		t.Fatalf("empty: err %v attempts %d", err, rcv.attempts)
	}
	n.cfg.MaxAlerts = 1
	if err := n.Notify(context.Background(), testAlerts()); err != nil || len(rcv.got) != 2 {
		t.Fatalf("split: err %v got %d", err, len(rcv.got))
	}
}

func TestSignKnownVector(t *testing.T) {
	// RFC 4231 test case 2.
	got := Sign([]byte("Jefe"), []byte("what do ya want for nothing?"))
	want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if !VerifySignature([]byte("Jefe"), []byte("what do ya want for nothing?"), want) || VerifySignature([]byte("Jefe"), []byte("x"), want) {
		t.Fatal("VerifySignature")
	}
}

func TestWebhookConfigValidate(t *testing.T) {
	for _, c := range []WebhookConfig{
		DefaultWebhookConfig("ftp://x", []byte("k")),
		DefaultWebhookConfig("http://x", nil),
		{URL: "http://x", Secret: []byte("k")},
	} {
		if _, err := NewWebhookNotifier(c, nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: err %v", c, err)
		}
	}
}

type fakeWriter struct{ msgs []kafka.Message }

func (f *fakeWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	f.msgs = append(f.msgs, msgs...)
	return nil
}

func TestKafkaNotifierMessages(t *testing.T) {
	w := &fakeWriter{}
	n := &KafkaNotifier{W: w}
	if err := n.Notify(context.Background(), testAlerts()); err != nil {
		t.Fatal(err)
	}
	if len(w.msgs) != 2 || string(w.msgs[0].Key) != "inv-1" || string(w.msgs[1].Key) != "inv-2" {
		t.Fatalf("messages %+v", w.msgs)
	}
	var m AlertMessage
	if err := json.Unmarshal(w.msgs[1].Value, &m); err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || m.Alert.ID != "inv-2/stuck/1" || m.Alert.State != StateResolved || m.Alert.Severity != SeverityWarning {
		t.Fatalf("message %+v", m)
	}
	h := map[string]string{}
	for _, x := range w.msgs[0].Headers {
		h[x.Key] = string(x.Value)
	}
	if h["type"] != "zero_output" || h["state"] != "open" || h["severity"] != "critical" {
		t.Fatalf("headers %v", h)
	}
}
