package lrs

import (
	"regexp"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// The statement rules of xAPI 1.0.3 (Part Two, Data) that go beyond what
// Learning Locker's shaping needs (validate.go): properties the
// specification does not define (§2.2), language maps (§4.2), results and
// scores (§2.4.5), durations (§4.6), context rules (§2.4.6), activity
// definitions (§2.4.4.1), attachments (§2.4.11) and voiding (§2.3.2).
// Section numbers are those of xAPI-Data.md.

// keySet is the set of property names an xAPI object may have.
type keySet map[string]bool

func keyNames(names ...string) keySet {
	s := keySet{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

// The properties each xAPI object may have (§2.2: "The LRS MUST reject
// Statements ... where a key or value is not allowed by this
// specification", and keys are case sensitive).
var (
	statementKeys = keyNames("id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version", "attachments")
	// A SubStatement's id, stored, version and authority are refused by
	// the shaping rules already, with their own message.
	subStatementKeys = keyNames("objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments",
		"id", "stored", "version", "authority")
	agentKeys      = keyNames("objectType", "name", "mbox", "mbox_sha1sum", "openid", "account")
	groupKeys      = keyNames("objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", "member")
	accountKeys    = keyNames("homePage", "name")
	verbKeys       = keyNames("id", "display")
	activityKeys   = keyNames("objectType", "id", "definition")
	definitionKeys = keyNames("name", "description", "type", "moreInfo", "extensions", "interactionType",
		"correctResponsesPattern", "choices", "scale", "source", "target", "steps")
	componentKeys    = keyNames("id", "description")
	resultKeys       = keyNames("score", "success", "completion", "response", "duration", "extensions")
	scoreKeys        = keyNames("scaled", "raw", "min", "max")
	contextKeys      = keyNames("registration", "instructor", "team", "contextActivities", "revision", "platform", "language", "statement", "extensions")
	contextActKeys   = keyNames("parent", "grouping", "category", "other")
	statementRefKeys = keyNames("objectType", "id")
	attachmentKeys   = keyNames("usageType", "display", "description", "contentType", "length", "sha2", "fileUrl")
)

// interactionTypes are the values of interactionType (§2.4.4.1).
var interactionTypes = keyNames("true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
	"sequencing", "likert", "numeric", "other")

// languageTag matches an RFC 5646 language tag's sequence of subtags
// (§2.2: "The LRS MUST at least validate that the sequence of token
// lengths for language map keys matches the RFC 5646 standard").
var languageTag = regexp.MustCompile(`^(?i:` +
	`(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})` + // language, extlang
	`(?:-[a-z]{4})?` + // script
	`(?:-(?:[a-z]{2}|[0-9]{3}))?` + // region
	`(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*` + // variants
	`(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*` + // extensions
	`(?:-x(?:-[a-z0-9]{1,8})+)?` + // private use
	`|x(?:-[a-z0-9]{1,8})+)$`)

// duration matches an ISO 8601 duration (§4.6), e.g. PT1H0M0.1S or P3W.
var duration = regexp.MustCompile(`^P(?:[0-9]+(?:\.[0-9]+)?W|` +
	`(?:[0-9]+(?:\.[0-9]+)?Y)?(?:[0-9]+(?:\.[0-9]+)?M)?(?:[0-9]+(?:\.[0-9]+)?D)?` +
	`(?:T(?:[0-9]+(?:\.[0-9]+)?H)?(?:[0-9]+(?:\.[0-9]+)?M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?)$`)

// verbVoided is the verb of a voiding statement (§2.3.2).
const verbVoided = "http://adlnet.gov/expapi/verbs/voided"

// allowed records every key of d that allowed lacks.
func (c *checker) allowed(path string, d bsoncore.Document, allowed keySet) {
	for e := range elements(d) {
		if k := e.KeyBytes(); !allowed[string(k)] {
			c.bad(at(path, string(k)), "is not a property of this xAPI 1.0.3 object (Data §2.2)")
		}
	}
}

// xapiRules checks statement (or SubStatement) d, whose parts are p,
// beyond the shaping rules.
func (c *checker) xapiRules(path string, d bsoncore.Document, p statementParts, sub bool) {
	if sub {
		c.allowed(path, d, subStatementKeys)
	} else {
		c.allowed(path, d, statementKeys)
	}
	c.actorKeys(at(path, "actor"), p.actor, "Agent")
	verbID := ""
	if verb, ok := p.verb.DocumentOK(); ok {
		c.allowed(at(path, "verb"), verb, verbKeys)
		c.languageMap(at(path, "verb.display"), verb.Lookup("display"), false)
		verbID, _ = stringOK(verb.Lookup("id"))
	}
	objectType := "Activity"
	if obj, ok := p.object.DocumentOK(); ok {
		if ot, ok := stringOK(obj.Lookup("objectType")); ok {
			objectType = ot
		}
		c.objectRules(at(path, "object"), obj, objectType)
	}
	if verbID == verbVoided && objectType != "StatementRef" {
		c.bad(at(path, "object.objectType"), `a voiding statement's object must be a StatementRef (Data §2.3.2)`)
	}
	if result, ok := p.result.DocumentOK(); ok {
		c.result(at(path, "result"), result)
	}
	if ctx, ok := p.context.DocumentOK(); ok {
		c.contextRules(at(path, "context"), ctx, objectType)
	}
	if v := p.attachments; v.Type != 0 {
		c.attachments(at(path, "attachments"), v)
	}
}

// actorKeys checks the properties of an Agent or Group (def when it has
// no objectType) and its parts.
func (c *checker) actorKeys(path string, v bsoncore.Value, def string) {
	d, ok := v.DocumentOK()
	if !ok {
		return
	}
	ot, _ := stringOK(d.Lookup("objectType"))
	if ot == "" {
		ot = def
	}
	if ot == "Group" {
		c.allowed(path, d, groupKeys)
	} else {
		c.allowed(path, d, agentKeys)
	}
	if n := d.Lookup("name"); n.Type != 0 && n.Type != bsontype.String {
		c.bad(at(path, "name"), "must be a string (Data §2.4.2)")
	}
	if acc, ok := d.Lookup("account").DocumentOK(); ok {
		c.allowed(at(path, "account"), acc, accountKeys)
	}
	if m, ok := d.Lookup("member").ArrayOK(); ok {
		for i, mv := range values(m) {
			c.actorKeys(at(path, "member")+"["+strconv.Itoa(i)+"]", mv, "Agent")
		}
	}
}

// objectRules checks a statement's object of the given objectType.
func (c *checker) objectRules(path string, obj bsoncore.Document, objectType string) {
	switch objectType {
	case "Activity":
		c.activityRules(path, obj)
	case "Agent", "Group":
		c.actorKeys(path, bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: obj}, objectType)
	case "StatementRef":
		c.allowed(path, obj, statementRefKeys)
	case "SubStatement":
		c.xapiRules(path, obj, partsOf(obj), true)
	}
}

// activityRules checks an Activity's properties and definition (§2.4.4.1).
func (c *checker) activityRules(path string, act bsoncore.Document) {
	c.allowed(path, act, activityKeys)
	def, ok := act.Lookup("definition").DocumentOK()
	if !ok {
		return
	}
	p := at(path, "definition")
	c.allowed(p, def, definitionKeys)
	c.languageMap(at(p, "name"), def.Lookup("name"), false)
	c.languageMap(at(p, "description"), def.Lookup("description"), false)
	for _, k := range [...]string{"type", "moreInfo"} {
		if v := def.Lookup(k); v.Type != 0 {
			c.iri(at(p, k), v)
		}
	}
	if v := def.Lookup("interactionType"); v.Type != 0 {
		if s, ok := stringOK(v); !ok || !interactionTypes[s] {
			c.bad(at(p, "interactionType"), "must be one of the interaction types of Data §2.4.4.1")
		}
	}
	if v := def.Lookup("correctResponsesPattern"); v.Type != 0 {
		arr, ok := v.ArrayOK()
		if !ok {
			c.bad(at(p, "correctResponsesPattern"), "must be an array of strings")
		} else {
			for i, s := range values(arr) {
				if s.Type != bsontype.String {
					c.bad(at(p, "correctResponsesPattern")+"["+strconv.Itoa(i)+"]", "must be a string")
				}
			}
		}
	}
	for _, k := range [...]string{"choices", "scale", "source", "target", "steps"} {
		v := def.Lookup(k)
		if v.Type == 0 {
			continue
		}
		arr, ok := v.ArrayOK()
		if !ok {
			c.bad(at(p, k), "must be an array of interaction components")
			continue
		}
		var ids []string // of this list's components, to find a repeated one
		for i, cv := range values(arr) {
			cp := at(p, k) + "[" + strconv.Itoa(i) + "]"
			comp, ok := cv.DocumentOK()
			if !ok {
				c.bad(cp, "must be an interaction component object")
				continue
			}
			c.allowed(cp, comp, componentKeys)
			if s, ok := stringOK(comp.Lookup("id")); !ok || s == "" {
				c.bad(at(cp, "id"), "must be a non-empty string")
			} else if slices.Contains(ids, s) {
				c.bad(at(cp, "id"), "repeats the id of another component of the list (Data §2.4.4.1)")
			} else {
				ids = append(ids, s)
			}
			c.languageMap(at(cp, "description"), comp.Lookup("description"), false)
		}
	}
}

// result checks a result (§2.4.5) and its score (§2.4.5.1).
func (c *checker) result(path string, r bsoncore.Document) {
	c.allowed(path, r, resultKeys)
	for _, k := range [...]string{"success", "completion"} {
		if v := r.Lookup(k); v.Type != 0 && v.Type != bsontype.Boolean {
			c.bad(at(path, k), "must be true or false")
		}
	}
	if v := r.Lookup("response"); v.Type != 0 && v.Type != bsontype.String {
		c.bad(at(path, "response"), "must be a string")
	}
	if v := r.Lookup("duration"); v.Type != 0 {
		if s, ok := stringOK(v); !ok || !duration.MatchString(s) || s == "P" || s == "PT" || s[len(s)-1] == 'T' {
			c.bad(at(path, "duration"), "must be an ISO 8601 duration (Data §4.6)")
		}
	}
	v := r.Lookup("score")
	if v.Type == 0 {
		return
	}
	score, ok := v.DocumentOK()
	if !ok {
		c.bad(at(path, "score"), "must be an object")
		return
	}
	p := at(path, "score")
	c.allowed(p, score, scoreKeys)
	nums := map[string]float64{}
	for _, k := range [...]string{"scaled", "raw", "min", "max"} {
		v := score.Lookup(k)
		if v.Type == 0 {
			continue
		}
		f, ok := number(v)
		if !ok {
			c.bad(at(p, k), "must be a number")
			continue
		}
		nums[k] = f
	}
	if s, ok := nums["scaled"]; ok && (s < -1 || s > 1) {
		c.bad(at(p, "scaled"), "must be between -1 and 1")
	}
	lo, hasMin := nums["min"]
	hi, hasMax := nums["max"]
	if hasMin && hasMax && hi <= lo {
		c.bad(at(p, "max"), "must be greater than min")
	}
	if raw, ok := nums["raw"]; ok {
		if hasMin && raw < lo {
			c.bad(at(p, "raw"), "must not be less than min")
		}
		if hasMax && raw > hi {
			c.bad(at(p, "raw"), "must not be greater than max")
		}
	}
}

// number returns v as a float64 when it is a number.
func number(v bsoncore.Value) (float64, bool) {
	switch v.Type {
	case bsontype.Int32:
		return float64(v.Int32()), true
	case bsontype.Int64:
		return float64(v.Int64()), true
	case bsontype.Double:
		return v.Double(), true
	}
	return 0, false
}

// contextRules checks a context (§2.4.6) of a statement whose object has
// objectType.
func (c *checker) contextRules(path string, ctx bsoncore.Document, objectType string) {
	c.allowed(path, ctx, contextKeys)
	for _, k := range [...]string{"revision", "platform"} {
		v := ctx.Lookup(k)
		if v.Type == 0 {
			continue
		}
		if v.Type != bsontype.String {
			c.bad(at(path, k), "must be a string")
		}
		if objectType != "Activity" {
			c.bad(at(path, k), "is only allowed when the statement's object is an Activity (Data §2.4.6)")
		}
	}
	if v := ctx.Lookup("language"); v.Type != 0 {
		if s, ok := stringOK(v); !ok || !languageTag.MatchString(s) {
			c.bad(at(path, "language"), "must be an RFC 5646 language tag")
		}
	}
	if v := ctx.Lookup("statement"); v.Type != 0 {
		ref, ok := v.DocumentOK()
		if !ok {
			c.bad(at(path, "statement"), "must be a StatementRef object")
		} else {
			c.allowed(at(path, "statement"), ref, statementRefKeys)
			if ot, _ := stringOK(ref.Lookup("objectType")); ot != "StatementRef" {
				c.bad(at(path, "statement.objectType"), `must be "StatementRef"`)
			}
			c.uuid(at(path, "statement.id"), ref.Lookup("id"))
		}
	}
	c.actorKeys(at(path, "instructor"), ctx.Lookup("instructor"), "Agent")
	if team, ok := ctx.Lookup("team").DocumentOK(); ok {
		if ot, _ := stringOK(team.Lookup("objectType")); ot != "" && ot != "Group" {
			c.bad(at(path, "team.objectType"), `must be "Group" (Data §2.4.6)`)
		}
		c.actorKeys(at(path, "team"), ctx.Lookup("team"), "Group")
	}
	acts, ok := ctx.Lookup("contextActivities").DocumentOK()
	if !ok {
		return
	}
	c.allowed(at(path, "contextActivities"), acts, contextActKeys)
	for _, k := range contextActivityKinds() {
		p := at(path, "contextActivities."+k)
		switch v := acts.Lookup(k); v.Type {
		case bsontype.Array:
			for i, a := range values(v.Array()) {
				if d, ok := a.DocumentOK(); ok {
					c.activityRules(p+"["+strconv.Itoa(i)+"]", d)
				}
			}
		case bsontype.EmbeddedDocument:
			c.activityRules(p, v.Document())
		}
	}
}

// attachments checks a statement's attachments (§2.4.11). Attachment
// content (multipart/mixed) is not accepted, so each attachment must point
// to its content with fileUrl.
func (c *checker) attachments(path string, v bsoncore.Value) {
	arr, ok := v.ArrayOK()
	if !ok {
		c.bad(path, "must be an array")
		return
	}
	for i, av := range values(arr) {
		p := path + "[" + strconv.Itoa(i) + "]"
		a, ok := av.DocumentOK()
		if !ok {
			c.bad(p, "must be an attachment object")
			continue
		}
		c.allowed(p, a, attachmentKeys)
		c.iri(at(p, "usageType"), a.Lookup("usageType"))
		c.languageMap(at(p, "display"), a.Lookup("display"), true)
		c.languageMap(at(p, "description"), a.Lookup("description"), false)
		if s, ok := stringOK(a.Lookup("contentType")); !ok || s == "" {
			c.bad(at(p, "contentType"), "required: an Internet Media Type")
		}
		if l := a.Lookup("length"); l.Type != bsontype.Int32 && l.Type != bsontype.Int64 {
			c.bad(at(p, "length"), "required: an integer")
		}
		if s, ok := stringOK(a.Lookup("sha2")); !ok || s == "" || !isHex(s) {
			c.bad(at(p, "sha2"), "required: the hex SHA-2 hash of the content")
		}
		if v := a.Lookup("fileUrl"); v.Type == 0 {
			c.bad(at(p, "fileUrl"), "required: attachment content (multipart/mixed) is not accepted by this LRS, so the attachment must give its fileUrl")
		} else {
			c.iri(at(p, "fileUrl"), v)
		}
	}
}

// languageMap checks a language map (§4.2): an object whose keys are RFC
// 5646 language tags and whose values are strings. required records a
// missing one.
func (c *checker) languageMap(path string, v bsoncore.Value, required bool) {
	if v.Type == 0 {
		if required {
			c.bad(path, "required")
		}
		return
	}
	d, ok := v.DocumentOK()
	if !ok {
		c.bad(path, "must be a language map (Data §4.2)")
		return
	}
	for e := range elements(d) {
		if k := e.KeyBytes(); !isLanguageTag(k) {
			c.bad(at(path, string(k)), "is not an RFC 5646 language tag")
		}
		if e.Value().Type != bsontype.String {
			c.bad(at(path, string(e.KeyBytes())), "must be a string")
		}
	}
}

// isLanguageTag reports whether k is an RFC 5646 language tag (see
// languageTag). The common forms, a two- or three-letter language with
// an optional two-letter region ("en", "en-US"), which the expression
// accepts, are recognised without running it.
func isLanguageTag(k []byte) bool {
	letters := func(b []byte) bool {
		for _, c := range b {
			if c|0x20 < 'a' || c|0x20 > 'z' {
				return false
			}
		}
		return true
	}
	switch {
	case len(k) == 2 || len(k) == 3:
		if letters(k) {
			return true
		}
	case (len(k) == 5 || len(k) == 6) && k[len(k)-3] == '-':
		if letters(k[:len(k)-3]) && letters(k[len(k)-2:]) {
			return true
		}
	}
	return languageTag.Match(k)
}
