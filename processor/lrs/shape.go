package lrs

import (
	"bytes"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Rewriting a validated statement into the form Learning Locker's
// xapi-service stores (setupObjectTypes, wrapContextActivitiesInArrays,
// setupPostHashStatement, encodeDotsInStatement), directly on the BSON.
// Elements keep their order; defaults are appended after them, where a
// JavaScript object gains a new key.

// lrsFields are what the LRS sets on a statement.
type lrsFields struct {
	id        string // used when the statement has no id
	stored    string // the storage time, ISO 8601 in UTC with milliseconds
	authority bsoncore.Document
}

// rewrite appends the element (key, v) to dst, possibly changed.
type rewrite func(dst []byte, key []byte, v bsoncore.Value) []byte

// keep appends the element unchanged.
func keep(dst []byte, key []byte, v bsoncore.Value) []byte {
	return appendValueElement(dst, key, v)
}

// shapeStatement appends the statement to store to dst (a scratch buffer
// that Prepare reuses from one statement to the next) and returns it.
func shapeStatement(dst []byte, d bsoncore.Document, lrs *lrsFields) bsoncore.Document {
	idx, dst := bsoncore.AppendDocumentStart(dst)
	dst = appendStatementBody(dst, d, lrs)
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

// appendStatementBody appends the elements of statement d, rewritten. lrs
// is nil for a SubStatement, which takes no LRS-set fields.
func appendStatementBody(dst []byte, d bsoncore.Document, lrs *lrsFields) []byte {
	var hasID, hasTimestamp, hasVersion bool
	for e := range elements(d) {
		switch k, v := e.KeyBytes(), e.Value(); string(k) {
		case "id", "timestamp", "version":
			hasID = hasID || string(k) == "id"
			hasTimestamp = hasTimestamp || string(k) == "timestamp"
			hasVersion = hasVersion || string(k) == "version"
			dst = keep(dst, k, v)
		case "actor":
			dst = appendActor(dst, k, v, "Agent")
		case "object":
			dst = appendObject(dst, k, v)
		case "context":
			dst = appendDoc(dst, k, v, "", rewriteContext)
		case "result":
			dst = appendDoc(dst, k, v, "", rewriteExtensionsOf)
		case "stored", "authority": // set by the LRS, whatever the client sent
			if lrs == nil {
				dst = keep(dst, k, v)
			}
		default:
			dst = keep(dst, k, v)
		}
	}
	if lrs == nil {
		return dst
	}
	if !hasID {
		dst = bsoncore.AppendStringElement(dst, "id", lrs.id)
	}
	if !hasTimestamp {
		dst = bsoncore.AppendStringElement(dst, "timestamp", lrs.stored)
	}
	dst = bsoncore.AppendStringElement(dst, "stored", lrs.stored)
	dst = bsoncore.AppendDocumentElement(dst, "authority", lrs.authority)
	if !hasVersion {
		dst = bsoncore.AppendStringElement(dst, "version", "1.0.0")
	}
	return dst
}

// appendDoc appends the document v as element key with each element passed
// through fn, then objectType defaultType if it has none and defaultType is
// set. A v that is not a document is appended unchanged.
func appendDoc(dst []byte, key []byte, v bsoncore.Value, defaultType string, fn rewrite) []byte {
	d, ok := v.DocumentOK()
	if !ok {
		return keep(dst, key, v)
	}
	idx, dst := appendContainerStart(dst, byte(bsontype.EmbeddedDocument), key)
	for e := range elements(d) {
		dst = fn(dst, e.KeyBytes(), e.Value())
	}
	if defaultType != "" && d.Lookup("objectType").Type == 0 {
		dst = bsoncore.AppendStringElement(dst, "objectType", defaultType)
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

// appendArray appends the array v as element key with each element passed
// through fn. A v that is not an array is appended unchanged.
func appendArray(dst []byte, key []byte, v bsoncore.Value, fn rewrite) []byte {
	arr, ok := v.ArrayOK()
	if !ok {
		return keep(dst, key, v)
	}
	idx, dst := appendContainerStart(dst, byte(bsontype.Array), key)
	var kb [20]byte
	for i, v := range values(arr) {
		dst = fn(dst, appendIndexKey(kb[:0], i), v)
	}
	dst, _ = bsoncore.AppendArrayEnd(dst, idx)
	return dst
}

// appendActor appends an Agent or Group, defaulting its objectType and its
// members' to Agent.
func appendActor(dst []byte, key []byte, v bsoncore.Value, defaultType string) []byte {
	return appendDoc(dst, key, v, defaultType, func(dst []byte, k []byte, v bsoncore.Value) []byte {
		if string(k) == "member" {
			return appendArray(dst, k, v, func(dst []byte, k []byte, v bsoncore.Value) []byte {
				return appendActor(dst, k, v, "Agent")
			})
		}
		return keep(dst, k, v)
	})
}

// appendObject appends a statement's object by its objectType (default
// Activity).
func appendObject(dst []byte, key []byte, v bsoncore.Value) []byte {
	ot, _ := stringOK(v.Document().Lookup("objectType"))
	switch ot {
	case "", "Activity":
		return appendActivity(dst, key, v)
	case "Agent", "Group":
		return appendActor(dst, key, v, ot)
	case "SubStatement":
		idx, dst := appendContainerStart(dst, byte(bsontype.EmbeddedDocument), key)
		dst = appendStatementBody(dst, v.Document(), nil)
		dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
		return dst
	}
	return keep(dst, key, v)
}

// appendActivity appends an Activity: objectType defaulted, definition
// extensions encoded.
func appendActivity(dst []byte, key []byte, v bsoncore.Value) []byte {
	return appendDoc(dst, key, v, "Activity", func(dst []byte, k []byte, v bsoncore.Value) []byte {
		if string(k) == "definition" {
			return appendDoc(dst, k, v, "", rewriteExtensionsOf)
		}
		return keep(dst, k, v)
	})
}

// rewriteExtensionsOf encodes the extensions element of a context, result
// or activity definition.
func rewriteExtensionsOf(dst []byte, k []byte, v bsoncore.Value) []byte {
	if string(k) == "extensions" {
		return appendExtensions(dst, k, v)
	}
	return keep(dst, k, v)
}

// rewriteContext rewrites the elements of a context.
func rewriteContext(dst []byte, k []byte, v bsoncore.Value) []byte {
	switch string(k) {
	case "contextActivities":
		return appendDoc(dst, k, v, "", rewriteContextActivities)
	case "instructor":
		return appendActor(dst, k, v, "Agent")
	case "team":
		return appendActor(dst, k, v, "Group")
	}
	return rewriteExtensionsOf(dst, k, v)
}

// rewriteContextActivities rewrites one kind of context activities: a
// single activity (allowed by xAPI for 0.95 compatibility) is wrapped in an
// array, and each activity is rewritten.
func rewriteContextActivities(dst []byte, k []byte, v bsoncore.Value) []byte {
	if !isContextActivityKind(string(k)) {
		return keep(dst, k, v)
	}
	if _, ok := v.DocumentOK(); ok {
		idx, dst := appendContainerStart(dst, byte(bsontype.Array), k)
		dst = appendActivity(dst, []byte{'0'}, v)
		dst, _ = bsoncore.AppendArrayEnd(dst, idx)
		return dst
	}
	return appendArray(dst, k, v, appendActivity)
}

// isContextActivityKind reports whether k is a key of contextActivities.
func isContextActivityKind(k string) bool {
	for _, kind := range contextActivityKinds() {
		if k == kind {
			return true
		}
	}
	return false
}

// appendExtensions appends an extensions object with "." in its keys
// encoded as "&46;", recursively through nested objects but not arrays,
// as Learning Locker does (MongoDB reserves "." in field names).
func appendExtensions(dst []byte, key []byte, v bsoncore.Value) []byte {
	d, ok := v.DocumentOK()
	if !ok {
		return keep(dst, key, v)
	}
	idx, dst := appendContainerStart(dst, byte(bsontype.EmbeddedDocument), key)
	for e := range elements(d) {
		k := e.KeyBytes()
		if bytes.IndexByte(k, '.') >= 0 {
			k = bytes.ReplaceAll(k, []byte("."), []byte("&46;"))
		}
		dst = appendExtensions(dst, k, e.Value())
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}
