package dispatch

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestSignatureVector checks the signer against the example of the
// Standard Webhooks reference implementations.
func TestSignatureVector(t *testing.T) {
	s, err := newSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := s.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

// TestVerifierRejects shows that verifyWebhook, which the delivery tests
// rely on, fails when it should.
func TestVerifierRejects(t *testing.T) {
	s, err := newSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body := []byte(`{"owner":{}}`)
	header := func(id string, ts time.Time, sig string) http.Header {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		h.Set("webhook-signature", sig)
		return h
	}
	good := s.sign("msg_1", now.Unix(), body)
	if err := verifyWebhook(testSecret, header("msg_1", now, good), body, now, time.Minute); err != nil {
		t.Fatalf("valid signature rejected: %v", err)
	}
	// Receivers may list several signatures, e.g. during key rotation.
	if err := verifyWebhook(testSecret, header("msg_1", now, "v1,bm9wZQ== "+good), body, now, time.Minute); err != nil {
		t.Errorf("valid signature among others rejected: %v", err)
	}
	old := now.Add(-10 * time.Minute)
	for name, c := range map[string]struct {
		h    http.Header
		body string
	}{
		"tampered body":      {header("msg_1", now, good), `{"owner":{"x":1}}`},
		"other id":           {header("msg_2", now, good), string(body)},
		"stale timestamp":    {header("msg_1", old, s.sign("msg_1", old.Unix(), body)), string(body)},
		"other secret":       {header("msg_1", now, must(newSigner("whsec_"+"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=")).sign("msg_1", now.Unix(), body)), string(body)},
		"unversioned":        {header("msg_1", now, good[len("v1,"):]), string(body)},
		"missing signatures": {header("msg_1", now, ""), string(body)},
	} {
		if err := verifyWebhook(testSecret, c.h, []byte(c.body), now, 5*time.Minute); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
