package dispatch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// secretPrefix marks a Standard Webhooks signing secret.
const secretPrefix = "whsec_"

// minSecretLen is the shortest key accepted, in bytes: the Standard
// Webhooks specification asks for keys of 24 to 64 random bytes.
const minSecretLen = 24

// signer computes Standard Webhooks signatures.
type signer struct {
	key []byte
}

// newSigner parses a "whsec_<base64>" secret. The secret itself never
// appears in its errors, which end up in logs.
func newSigner(secret string) (*signer, error) {
	enc, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("dispatch: signing secret does not start with " + secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, errors.New("dispatch: signing secret is not valid base64 after " + secretPrefix)
	}
	if len(key) < minSecretLen {
		return nil, fmt.Errorf("dispatch: signing secret is %d bytes, want at least %d", len(key), minSecretLen)
	}
	return &signer{key: key}, nil
}

// sign returns the webhook-signature header value for a message: "v1,"
// and the base64 HMAC-SHA256 of "id.timestamp.body".
func (s *signer) sign(id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, timestamp, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
