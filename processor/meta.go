package processor

import (
	"encoding/binary"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// checkpoint is the stream position committed with the progress it covers.
type checkpoint struct {
	// Token is the change stream resume token of the last applied event.
	Token bson.Raw
	// LastStored is the largest stored time (Unix ms) of the statements
	// applied so far. After a loss of stream history, completions by
	// statements stored after it are new and notify; older ones were seen.
	LastStored int64
}

const checkpointVersion = 1

func (c *checkpoint) encode() []byte {
	b := []byte{checkpointVersion}
	b = binary.AppendUvarint(b, uint64(len(c.Token)))
	b = append(b, c.Token...)
	return binary.AppendVarint(b, c.LastStored)
}

func decodeCheckpoint(b []byte) (checkpoint, error) {
	var c checkpoint
	if len(b) == 0 || b[0] != checkpointVersion {
		return c, fmt.Errorf("unknown checkpoint encoding")
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return c, fmt.Errorf("corrupt checkpoint token length")
	}
	c.Token = bson.Raw(append([]byte(nil), b[k:k+int(n)]...))
	b = b[k+int(n):]
	v, k := binary.Varint(b)
	if k <= 0 || k != len(b) {
		return c, fmt.Errorf("corrupt checkpoint")
	}
	c.LastStored = v
	return c, nil
}

// journeyMeta is what the pipeline keeps per journey in the state store,
// committed with the checkpoint (a running recalculation keeps its own
// records: see recalc.go): the definition in force at the checkpoint,
// so that a restart evaluates the statements after the checkpoint against
// the journeys as they were then, and the stream re-applies later changes
// at their positions.
type journeyMeta struct {
	// Doc is the journey document in force.
	Doc bson.Raw `bson:"doc"`
	// Version is the digest progress was built for.
	Version string `bson:"version"`
	// Request is the last recalculation request handled.
	Request primitive.ObjectID `bson:"request"`
	// Suspended is set while the journey document does not compile; the
	// engine does not track it and its next valid version recalculates.
	Suspended bool `bson:"suspended"`
	// QuietBefore suppresses callbacks for completions by statements stored
	// before it (Unix ms).
	QuietBefore int64 `bson:"quietBefore"`
	// RecomputeSkip lists statements owner recomputes applied that the
	// stream may still deliver (see recompute_skip.go).
	RecomputeSkip []skipEntry `bson:"recomputeSkip,omitempty"`
	// DeferredRecomputes are the owner recomputes statement updates asked
	// for while the journey recalculated, run when it hands over (see
	// recompute.go).
	DeferredRecomputes []deferredRecompute `bson:"deferredRecomputes,omitempty"`
}

func (m *journeyMeta) encode() ([]byte, error) {
	b, err := bson.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode journey meta: %w", err)
	}
	return b, nil
}

func decodeMeta(b []byte) (*journeyMeta, error) {
	var m journeyMeta
	if err := bson.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode journey meta: %w", err)
	}
	return &m, nil
}
