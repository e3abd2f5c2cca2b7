// Package outbox defines the callback deliveries the engine queues in the
// state store's outbox and the dispatcher sends: their record, their
// stable Standard Webhooks id, and their encoding.
package outbox

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Delivery is a callback due to be POSTed, as kept in the state store's
// outbox (pending) or dead letters. The engine writes it in the same batch
// as the completion that caused it, so a completion and its deliveries are
// durable together.
type Delivery struct {
	// ID is the Standard Webhooks message id (webhook-id header), derived
	// from (journey, owner, attempt number, outcome) so that it is the same
	// on every retry, after restarts and after recalculations.
	ID           string             `json:"id"`
	Journey      primitive.ObjectID `json:"journey"`
	Organisation primitive.ObjectID `json:"organisation"`
	// Owner is the owner key (see journey.AppendOwnerKey).
	Owner   []byte             `json:"owner"`
	Attempt uint32             `json:"attempt"`
	Outcome primitive.ObjectID `json:"outcome"`
	URL     string             `json:"url"`
	// Body is the exact JSON request body (docs/design.md §8).
	Body json.RawMessage `json:"body"`
	// CreatedAt is when the delivery was queued (wall clock); the retry
	// window is measured from it.
	CreatedAt time.Time `json:"createdAt"`
	// Tries, LastStatus, LastError and NextAttemptAt are maintained by the
	// dispatcher: the number of attempts made, the last HTTP status (0 when
	// none was received), the last error, and when the next attempt is due.
	Tries         int       `json:"tries"`
	LastStatus    int       `json:"lastStatus,omitempty"`
	LastError     string    `json:"lastError,omitempty"`
	NextAttemptAt time.Time `json:"nextAttemptAt"`
	// DeadAt is set when the delivery was dead-lettered.
	DeadAt *time.Time `json:"deadAt,omitempty"`
}

// ID returns the webhook-id of the delivery of outcome for the attempt-th
// completion of journey by owner.
func ID(journey primitive.ObjectID, owner []byte, attempt uint32, outcome primitive.ObjectID) string {
	h := sha256.New()
	h.Write(journey[:])
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(owner)))])
	h.Write(owner)
	h.Write(n[:binary.PutUvarint(n[:], uint64(attempt))])
	h.Write(outcome[:])
	return "msg_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Encode returns the stored form of d.
func (d *Delivery) Encode() ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode delivery %s: %w", d.ID, err)
	}
	return b, nil
}

// Decode decodes a stored delivery.
func Decode(b []byte) (*Delivery, error) {
	var d Delivery
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("decode delivery: %w", err)
	}
	return &d, nil
}
