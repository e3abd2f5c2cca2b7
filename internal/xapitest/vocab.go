package xapitest

// Standard ADL xAPI verb identifiers, as found in statement.verb.id.
const (
	VerbAnswered    = "http://adlnet.gov/expapi/verbs/answered"
	VerbAttempted   = "http://adlnet.gov/expapi/verbs/attempted"
	VerbCommented   = "http://adlnet.gov/expapi/verbs/commented"
	VerbCompleted   = "http://adlnet.gov/expapi/verbs/completed"
	VerbExperienced = "http://adlnet.gov/expapi/verbs/experienced"
	VerbFailed      = "http://adlnet.gov/expapi/verbs/failed"
	VerbInitialized = "http://adlnet.gov/expapi/verbs/initialized"
	VerbLaunched    = "http://adlnet.gov/expapi/verbs/launched"
	VerbPassed      = "http://adlnet.gov/expapi/verbs/passed"
	VerbProgressed  = "http://adlnet.gov/expapi/verbs/progressed"
	VerbTerminated  = "http://adlnet.gov/expapi/verbs/terminated"
)

// Standard ADL xAPI activity types, as found in
// statement.object.definition.type.
const (
	TypeAssessment  = "http://adlnet.gov/expapi/activities/assessment"
	TypeCourse      = "http://adlnet.gov/expapi/activities/course"
	TypeInteraction = "http://adlnet.gov/expapi/activities/interaction"
	TypeLesson      = "http://adlnet.gov/expapi/activities/lesson"
	TypeMedia       = "http://adlnet.gov/expapi/activities/media"
	TypeModule      = "http://adlnet.gov/expapi/activities/module"
	TypeQuestion    = "http://adlnet.gov/expapi/activities/question"
)

// ActivityBase prefixes every generated activity id; the id continues with
// the activity type's last segment and a number, e.g.
// "https://lms.example.org/activities/course/3".
const ActivityBase = "https://lms.example.org/activities/"

// StandardVerbs returns the verbs a Generator draws from when Options.Verbs
// is empty. The slice is freshly allocated, so callers may modify it.
func StandardVerbs() []string {
	return []string{
		VerbAnswered, VerbAttempted, VerbCommented, VerbCompleted,
		VerbExperienced, VerbFailed, VerbInitialized, VerbLaunched,
		VerbPassed, VerbProgressed, VerbTerminated,
	}
}

// StandardActivityTypes returns the activity types a Generator draws from
// when Options.ActivityTypes is empty. The slice is freshly allocated.
func StandardActivityTypes() []string {
	return []string{
		TypeAssessment, TypeCourse, TypeInteraction, TypeLesson,
		TypeMedia, TypeModule, TypeQuestion,
	}
}

// lastSegment returns the part of an IRI after its final '/'. It is the
// en-US display ADL's registry gives each standard verb, and the short name
// of an activity type.
func lastSegment(iri string) string {
	for i := len(iri) - 1; i >= 0; i-- {
		if iri[i] == '/' {
			return iri[i+1:]
		}
	}
	return iri
}
