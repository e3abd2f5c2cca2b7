package lrs

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TestXAPIDataRules checks the MUSTs of xAPI 1.0.3 Part Two (Data) that a
// statement resource enforces, one case per rule, each citing its section
// of xAPI-Data.md. A case names the fields its body must be refused for; a
// case with no fields is a valid statement that must be accepted.
func TestXAPIDataRules(t *testing.T) {
	const actor, verb, obj = `"actor":{"mbox":"mailto:a@b.org"}`, `"verb":{"id":"http://v.org/v"}`, `"object":{"id":"http://o.org/o"}`
	with := func(parts ...string) string { return "{" + strings.Join(parts, ",") + "}" }
	cases := []struct {
		section, rule, body string
		fields              []string
	}{
		{"2.2", "actor, verb and object are required", `{}`, []string{"actor", "verb", "object"}},
		{"2.2", "null values are rejected", with(actor, verb, obj, `"context":{"platform":null}`), []string{"context.platform"}},
		{"2.2", "null values inside extensions are allowed", with(actor, verb, obj, `"result":{"extensions":{"http://e.org/x":null}}`), nil},
		{"2.2", "a property the specification does not define", with(actor, verb, obj, `"mood":"happy"`), []string{"mood"}},
		{"2.2", "keys are case sensitive", with(`"Actor":{"mbox":"mailto:a@b.org"}`, verb, obj), []string{"actor", "Actor"}},
		{"2.2", "a property used twice", with(actor, verb, obj, `"verb":{"id":"http://v.org/w"}`), []string{"verb"}},
		{"2.2", "strings where numbers are required", with(actor, verb, obj, `"result":{"score":{"raw":"5"}}`), []string{"result.score.raw"}},
		{"2.2", "strings where booleans are required", with(actor, verb, obj, `"result":{"success":"true"}`), []string{"result.success"}},
		{"2.2", "an IRI without a scheme", with(actor, `"verb":{"id":"completed"}`, obj), []string{"verb.id"}},
		{"2.3.2", "a voiding statement's object is a StatementRef", with(actor, `"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"}`, obj), []string{"object.objectType"}},
		{"2.3.2", "a voiding statement", with(actor, `"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"}`, `"object":{"objectType":"StatementRef","id":"0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}`), nil},
		{"2.4.1", "id is a UUID", with(`"id":"1234"`, actor, verb, obj), []string{"id"}},
		{"2.4.2.1", "an Agent has exactly one IFI", with(`"actor":{"mbox":"mailto:a@b.org","openid":"http://o.org/a"}`, verb, obj), []string{"actor"}},
		{"2.4.2.1", "an Agent's name is a string", with(`"actor":{"mbox":"mailto:a@b.org","name":5}`, verb, obj), []string{"actor.name"}},
		{"2.4.2.2", "an anonymous Group has members", with(`"actor":{"objectType":"Group"}`, verb, obj), []string{"actor"}},
		{"2.4.2.2", "a Group's members are Agents", with(`"actor":{"objectType":"Group","member":[{"objectType":"Group","mbox":"mailto:g@b.org"}]}`, verb, obj), []string{"actor.member[0].objectType"}},
		{"2.4.2.3", "mbox is a mailto IRI", with(`"actor":{"mbox":"a@b.org"}`, verb, obj), []string{"actor.mbox"}},
		{"2.4.2.3", "mbox_sha1sum is a hex SHA-1", with(`"actor":{"mbox_sha1sum":"abc"}`, verb, obj), []string{"actor.mbox_sha1sum"}},
		{"2.4.2.4", "an account has homePage and name only", with(`"actor":{"account":{"homePage":"http://h.org","name":"n","id":1}}`, verb, obj), []string{"actor.account.id"}},
		{"2.4.3", "verb.display is a language map", with(actor, `"verb":{"id":"http://v.org/v","display":"done"}`, obj), []string{"verb.display"}},
		{"4.2", "language map keys are RFC 5646 tags", with(actor, `"verb":{"id":"http://v.org/v","display":{"en_US":"done","en-US":"done","zh-Hant-TW":"x"}}`, obj), []string{"verb.display.en_US"}},
		{"4.2", "language map values are strings", with(actor, `"verb":{"id":"http://v.org/v","display":{"en":5}}`, obj), []string{"verb.display.en"}},
		{"2.4.4", "objectType is one of the five", with(actor, verb, `"object":{"objectType":"Thing","id":"http://o.org"}`), []string{"object.objectType"}},
		{"2.4.4.1", "an Activity has an IRI id", with(actor, verb, `"object":{"definition":{}}`), []string{"object.id"}},
		{"2.4.4.1", "definition name and description are language maps", with(actor, verb, `"object":{"id":"http://o.org","definition":{"name":"x","description":{"en":"y"}}}`), []string{"object.definition.name"}},
		{"2.4.4.1", "definition type and moreInfo are IRIs", with(actor, verb, `"object":{"id":"http://o.org","definition":{"type":"course","moreInfo":"http://m.org"}}`), []string{"object.definition.type"}},
		{"2.4.4.1", "interactionType is enumerated (case included)", with(actor, verb, `"object":{"id":"http://o.org","definition":{"interactionType":"Choice"}}`), []string{"object.definition.interactionType"}},
		{"2.4.4.1", "interaction component ids are distinct within a list", with(actor, verb, `"object":{"id":"http://o.org","definition":{"interactionType":"choice","correctResponsesPattern":["a"],"choices":[{"id":"a"},{"id":"b"},{"id":"a"}]}}`), []string{"object.definition.choices[2].id"}},
		{"2.4.4.1", "interaction components have an id", with(actor, verb, `"object":{"id":"http://o.org","definition":{"interactionType":"choice","correctResponsesPattern":["a"],"choices":[{"description":{"en":"A"}}]}}`), []string{"object.definition.choices[0].id"}},
		{"2.4.4.3", "a StatementRef's id is a UUID", with(actor, verb, `"object":{"objectType":"StatementRef","id":"x"}`), []string{"object.id"}},
		{"2.4.4.3", "a SubStatement has no id, stored, version or authority", with(actor, verb, `"object":{"objectType":"SubStatement","id":"0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",`+actor+`,`+verb+`,`+obj+`}`), []string{"object.id"}},
		{"2.4.4.3", "a SubStatement does not nest", with(actor, verb, `"object":{"objectType":"SubStatement",`+actor+`,`+verb+`,"object":{"objectType":"SubStatement"}}`), []string{"object.object.objectType"}},
		{"2.4.5", "result properties", with(actor, verb, obj, `"result":{"completion":1,"response":5,"grade":"A"}`), []string{"result.grade", "result.completion", "result.response"}},
		{"2.4.5", "duration is ISO 8601", with(actor, verb, obj, `"result":{"duration":"1 hour"}`), []string{"result.duration"}},
		{"4.6", "a valid duration", with(actor, verb, obj, `"result":{"duration":"PT1H0M0.1S"}`), nil},
		{"2.4.5.1", "scaled is between -1 and 1", with(actor, verb, obj, `"result":{"score":{"scaled":1.5}}`), []string{"result.score.scaled"}},
		{"2.4.5.1", "raw is between min and max", with(actor, verb, obj, `"result":{"score":{"raw":11,"min":0,"max":10}}`), []string{"result.score.raw"}},
		{"2.4.5.1", "max is greater than min", with(actor, verb, obj, `"result":{"score":{"min":5,"max":5}}`), []string{"result.score.max"}},
		{"2.4.5.1", "a score has no other properties", with(actor, verb, obj, `"result":{"score":{"percent":50}}`), []string{"result.score.percent"}},
		{"2.4.6", "revision and platform only with an Activity object", with(actor, verb, `"object":{"objectType":"Agent","mbox":"mailto:c@b.org"}`, `"context":{"revision":"1","platform":"web"}`), []string{"context.revision", "context.platform"}},
		{"2.4.6", "context.language is a language tag", with(actor, verb, obj, `"context":{"language":"english!"}`), []string{"context.language"}},
		{"2.4.6", "context.statement is a StatementRef", with(actor, verb, obj, `"context":{"statement":{"id":"0b2a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}}`), []string{"context.statement.objectType"}},
		{"2.4.6", "context.team is a Group", with(actor, verb, obj, `"context":{"team":{"objectType":"Agent","mbox":"mailto:t@b.org"}}`), []string{"context.team.objectType"}},
		{"2.4.6.1", "registration is a UUID", with(actor, verb, obj, `"context":{"registration":"r"}`), []string{"context.registration"}},
		{"2.4.6.2", "contextActivities has four kinds", with(actor, verb, obj, `"context":{"contextActivities":{"parents":[]}}`), []string{"context.contextActivities.parents"}},
		{"2.4.7", "timestamp is ISO 8601 with a zone", with(actor, verb, obj, `"timestamp":"2024-01-01 10:00"`), []string{"timestamp"}},
		{"2.4.10", "version starts with 1.0.", with(actor, verb, obj, `"version":"2.0.0"`), []string{"version"}},
		{"2.4.11", "an attachment's required properties", with(actor, verb, obj, `"attachments":[{"usageType":"x"}]`), []string{
			"attachments[0].usageType", "attachments[0].display", "attachments[0].contentType", "attachments[0].length", "attachments[0].sha2", "attachments[0].fileUrl"}},
		{"2.4.11", "an attachment with its fileUrl", with(actor, verb, obj, `"attachments":[{"usageType":"http://u.org","display":{"en":"cert"},"contentType":"application/pdf","length":12,"sha2":"ab12","fileUrl":"http://f.org/c.pdf"}]`), nil},
		{"4.1", "extensions are objects", with(actor, verb, obj, `"result":{"extensions":[1]}`), []string{"result.extensions"}},
		{"4.1", "extension keys are IRIs", with(actor, verb, obj, `"result":{"extensions":{"http://e.org/ok":1,"score":2}}`), []string{"result.extensions.score"}},
		{"4.1", "context extension keys are IRIs", with(actor, verb, obj, `"context":{"extensions":{"not an iri":1}}`), []string{"context.extensions.not an iri"}},
	}
	for _, c := range cases {
		_, err := Prepare(primitive.NewObjectID(), primitive.NewObjectID(), []byte(c.body), time.Now())
		if c.fields == nil {
			if err != nil {
				t.Errorf("§%s %s: a valid statement was refused: %v", c.section, c.rule, err)
			}
			continue
		}
		var ie *IngestError
		if !errors.As(err, &ie) {
			t.Errorf("§%s %s: got %v, want an *IngestError", c.section, c.rule, err)
			continue
		}
		var got []string
		for _, fe := range ie.Errors {
			got = append(got, fe.Field)
		}
		for _, f := range c.fields {
			if !slices.Contains(got, f) {
				t.Errorf("§%s %s: no error for %s (got %v)", c.section, c.rule, f, ie.Errors)
			}
		}
	}
}
