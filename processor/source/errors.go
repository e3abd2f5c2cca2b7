package source

import (
	"errors"
	"fmt"
	"strings"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/mongo"
)

// ErrHistoryLost is wrapped by the error Open or Next return when the
// stream cannot continue from its resume point: the oplog no longer holds
// it, or the token is unknown to or malformed for this database. The
// changes in between are unrecoverable from the stream; the caller must
// rebuild its state from the stored data and open a new Source with a nil
// token.
var ErrHistoryLost = errors.New("source: change stream history lost")

// failure classifies an error of the change stream.
type failure uint8

const (
	// transient: reopen after the last event read, after a backoff.
	transient failure = iota
	// historyLost: the resume point is gone; see ErrHistoryLost.
	historyLost
	// permanent: retrying cannot help (authorisation, an unsupported
	// deployment, a closed engine); the caller must see it.
	permanent
)

// classify sorts a change stream error. Server errors are judged by code and
// label; other errors from MongoDB (network, timeouts, server selection)
// are transient, as the driver itself treats them. The embedded engine runs
// in process, so an error there is never transient.
//
// reading says that err ended a stream that was open (rather than the
// Source's own open): there an InvalidResumeToken (260) comes from the
// driver's internal resume, which always resumes with resumeAfter — and
// resumeAfter refuses the token of an invalidate event that the Source
// reopened after with startAfter (the change streams specification's prose
// test 17 wants startAfter; driver v1.17 does not). That is transient: the
// Source reopens with startAfter from the same token, and only if its own
// open is refused too is the history lost.
func classify(err error, embedded, reading bool) failure {
	if errors.Is(err, lungo.ErrLostOplogPosition) {
		return historyLost
	}
	// lungo's Watch reports a token missing from its oplog only by this
	// message (lungo engine.go); nothing else makes it fail to resume.
	if embedded && strings.Contains(err.Error(), "unable to resume change stream") {
		return historyLost
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		switch {
		case reading && se.HasErrorCode(codeInvalidResumeToken):
			return transient
		case lostServerError(se):
			return historyLost
		case se.HasErrorLabel("ResumableChangeStreamError"), se.HasErrorLabel("NetworkError"), resumableCode(se):
			return transient
		}
		return permanent
	}
	if embedded || errors.Is(err, mongo.ErrClientDisconnected) {
		return permanent
	}
	return transient
}

// Server error codes the Source treats specially.
const (
	// codeInvalidResumeToken: the server cannot resume from the token, or
	// not with the option it was given (see classify).
	codeInvalidResumeToken = 260
	// codeObjectTooLarge (BSONObjectTooLarge): a change event over 16 MB.
	codeObjectTooLarge = 10334
)

// tooLarge explains a change event over 16 MB: the stream cannot pass it
// without $changeStreamSplitLargeEvent.
func tooLarge(err error, split bool) error {
	var se mongo.ServerError
	if !errors.As(err, &se) || !se.HasErrorCode(codeObjectTooLarge) {
		return err
	}
	if split {
		return fmt.Errorf("a change event is too large even split into fragments: %w", err)
	}
	return fmt.Errorf("a change event is over 16 MB and this MongoDB cannot split it "+
		"($changeStreamSplitLargeEvent needs MongoDB 6.0.9 or later); upgrade MongoDB, "+
		"or shrink the changed document: %w", err)
}

// lostServerError reports whether a server error means the resume point is
// gone or unusable.
func lostServerError(se mongo.ServerError) bool {
	switch {
	case se.HasErrorCode(286), // ChangeStreamHistoryLost (MongoDB 4.4+)
		se.HasErrorCode(136), // CappedPositionLost: older servers, oplog rolled over
		se.HasErrorCode(codeInvalidResumeToken),
		// Malformed tokens, e.g. one issued by the embedded engine handed
		// to MongoDB after a migration: _data missing or of the wrong type,
		// _typeBits of the wrong type, an empty token.
		se.HasErrorCode(40647), se.HasErrorCode(40648), se.HasErrorCode(40649):
		return true
	}
	// ChangeStreamFatalError also covers unrelated pipeline errors; only the
	// resume-token variant ("the resume token was not found") is history.
	return se.HasErrorCodeWithMessage(280, "resume token")
}

// resumableCode reports whether a server error that lacks the
// ResumableChangeStreamError label (servers before 4.4 do not send it) is
// one the change stream specification lists as resumable.
func resumableCode(se mongo.ServerError) bool {
	for _, code := range [...]int{
		6,     // HostUnreachable
		7,     // HostNotFound
		43,    // CursorNotFound
		63,    // StaleShardVersion
		89,    // NetworkTimeout
		91,    // ShutdownInProgress
		133,   // FailedToSatisfyReadPreference
		150,   // StaleEpoch
		189,   // PrimarySteppedDown
		234,   // RetryChangeStream
		262,   // ExceededTimeLimit
		9001,  // SocketException
		10107, // NotWritablePrimary
		11600, // InterruptedAtShutdown
		11602, // InterruptedDueToReplStateChange
		13388, // StaleConfig
		13435, // NotPrimaryNoSecondaryOk
		13436, // NotPrimaryOrSecondary
	} {
		if se.HasErrorCode(code) {
			return true
		}
	}
	return false
}
