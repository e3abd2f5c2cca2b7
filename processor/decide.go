package processor

import "go.mongodb.org/mongo-driver/bson/primitive"

// This file holds the one decision of how the pipeline follows a journey
// document change: a pure function from what is stored, what arrived and
// what was asked, to an action the pipeline then executes
// (Pipeline.journeyChanged).

// actionKind is what a journey change requires.
type actionKind int

const (
	// actDocOnly stores the new document; the engine keeps its journey,
	// its progress and any running recalculation. Only fields the daemon
	// itself rewrites changed (recalculateStatus, updatedAt).
	actDocOnly actionKind = iota
	// actMetadata replaces the engine's journey with the new document
	// (description, outcomes, isPublic: what callbacks carry) keeping its
	// progress and any running recalculation.
	actMetadata
	// actSuspend stops tracking a journey whose document does not
	// compile; its progress is kept and its next valid version
	// recalculates.
	actSuspend
	// actDeactivate stops tracking an inactive journey.
	actDeactivate
	// actRecalculate starts a recalculation: progress is rebuilt from
	// every stored eligible statement, then continues live.
	actRecalculate
)

var actionNames = [...]string{"doc-only", "metadata", "suspend", "deactivate", "recalculate"}

func (k actionKind) String() string { return actionNames[k] }

// storedJourney is what the pipeline keeps of a journey it knows.
type storedJourney struct {
	// Version is the digest its progress is (being) built for.
	Version string
	// Suspended: the document in force did not compile.
	Suspended bool
	// Recalculating: a recalculation is running.
	Recalculating bool
	// Request is the last recalculation request handled.
	Request primitive.ObjectID
}

// journeyChange is a changed journey document as the decision sees it.
type journeyChange struct {
	// Compiles reports whether the document compiles; the other fields
	// but Request, Notify and At mean nothing when it does not.
	Compiles bool
	// Active and Version are the compiled journey's.
	Active  bool
	Version string
	// ShapeChanged reports whether the waypoints differ from the stored
	// document's in anything but the journey's isActive (so that stored
	// progress would be shown against other waypoints).
	ShapeChanged bool
	// EngineChanged reports whether the document differs from the stored
	// one in anything but the fields the daemon rewrites itself.
	EngineChanged bool
	// At is when the change was made (Unix ms, from the change event's
	// cluster time), or 0 when it was not seen in the stream.
	At int64
}

// recalcRequest is what was asked besides the document itself.
type recalcRequest struct {
	// ID is the document's recalculateRequest._id (zero when none); a
	// request is new when it differs from the stored one.
	ID primitive.ObjectID
	// Notify is recalculateRequest.notify: completions found in history
	// send callbacks.
	Notify bool
	// Rebuild, when not 0, recalculates every active journey (a fresh
	// start or a lost stream history); completions by statements stored
	// before it (Unix ms) do not notify.
	Rebuild int64
	// Now is the wall clock (Unix ms), the notification point of a change
	// not seen in the stream.
	Now int64
}

// action is what the pipeline does for a journey change.
type action struct {
	Kind actionKind
	// QuietBefore (actRecalculate): completions by statements stored
	// before it (Unix ms) do not notify; 0 notifies for all.
	QuietBefore int64
	// ResetProgress (actDeactivate): drop the stored progress, which was
	// half rebuilt or built for other waypoints; reactivation rebuilds it.
	ResetProgress bool
	// ReportInactive (actDeactivate): a new recalculation request was made
	// for an inactive journey; its status says nothing was recalculated.
	ReportInactive bool
	// Request is the recalculation request to store as handled.
	Request primitive.ObjectID
}

// decide returns what a journey change requires. old is nil when the
// journey is not known.
func decide(old *storedJourney, ch journeyChange, req recalcRequest) action {
	a := action{}
	if old != nil {
		a.Request = old.Request
	}
	requested := !req.ID.IsZero() && (old == nil || req.ID != old.Request)
	if requested {
		a.Request = req.ID
	}
	switch {
	case !ch.Compiles:
		a.Kind = actSuspend
	case !ch.Active:
		a.Kind = actDeactivate
		a.ReportInactive = requested
		a.ResetProgress = old != nil && (old.Recalculating || old.Version != ch.Version && ch.ShapeChanged)
	case requested && req.Notify:
		a.Kind, a.QuietBefore = actRecalculate, 0
	case requested || req.Rebuild != 0 || old == nil || old.Suspended || old.Version != ch.Version:
		a.Kind = actRecalculate
		switch {
		case req.Rebuild != 0:
			a.QuietBefore = req.Rebuild
		case ch.At != 0:
			a.QuietBefore = ch.At
		default:
			a.QuietBefore = req.Now
		}
	case ch.EngineChanged:
		a.Kind = actMetadata
	default:
		a.Kind = actDocOnly
	}
	return a
}
