package lrs

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/integration/mtest"
)

// The startup checks against mtest's mock deployment: every command the
// driver sends gets the next scripted reply, shaped as MongoDB 7.0 (or
// the version named) answers it, and the commands sent are asserted.

const testDB = "learninglocker_v2"

func buildInfo(version string, parts ...int32) bson.D {
	return bson.D{
		{Key: "version", Value: version},
		{Key: "gitVersion", Value: "0000000000000000000000000000000000000000"},
		{Key: "versionArray", Value: bson.A{parts[0], parts[1], parts[2], int32(0)}},
		{Key: "bits", Value: int32(64)},
		{Key: "maxBsonObjectSize", Value: int32(16777216)},
		{Key: "ok", Value: 1.0},
	}
}

// hello is a hello reply; setName "" is a standalone server.
func hello(setName string, wire int32) bson.D {
	d := bson.D{
		{Key: "isWritablePrimary", Value: true},
		{Key: "maxBsonObjectSize", Value: int32(16777216)},
		{Key: "maxMessageSizeBytes", Value: int32(48000000)},
		{Key: "maxWriteBatchSize", Value: int32(100000)},
		{Key: "localTime", Value: primitive.NewDateTimeFromTime(time.Now())},
		{Key: "logicalSessionTimeoutMinutes", Value: int32(30)},
		{Key: "connectionId", Value: int32(7)},
		{Key: "minWireVersion", Value: int32(0)},
		{Key: "maxWireVersion", Value: wire},
		{Key: "readOnly", Value: false},
	}
	if setName != "" {
		d = append(d,
			bson.E{Key: "hosts", Value: bson.A{"mongo-0:27017"}},
			bson.E{Key: "setName", Value: setName},
			bson.E{Key: "setVersion", Value: int32(1)},
			bson.E{Key: "secondary", Value: false},
			bson.E{Key: "primary", Value: "mongo-0:27017"},
			bson.E{Key: "me", Value: "mongo-0:27017"},
		)
	}
	return append(d, bson.E{Key: "ok", Value: 1.0})
}

// connectionStatus is a connectionStatus reply for user with privileges.
func connectionStatus(user string, roles bson.A, privileges bson.A) bson.D {
	users := bson.A{}
	if user != "" {
		users = append(users, bson.D{{Key: "user", Value: user}, {Key: "db", Value: "admin"}})
	}
	return bson.D{{Key: "authInfo", Value: bson.D{
		{Key: "authenticatedUsers", Value: users},
		{Key: "authenticatedUserRoles", Value: roles},
		{Key: "authenticatedUserPrivileges", Value: privileges},
	}}, {Key: "ok", Value: 1.0}}
}

func privilege(db, coll string, actions ...string) bson.D {
	a := bson.A{}
	for _, x := range actions {
		a = append(a, x)
	}
	return bson.D{{Key: "resource", Value: bson.D{{Key: "db", Value: db}, {Key: "collection", Value: coll}}}, {Key: "actions", Value: a}}
}

// readRole is what MongoDB 7.0 lists for the built-in role read on testDB.
var readRole = bson.A{
	privilege(testDB, "", "changeStream", "collStats", "dbHash", "dbStats", "find", "killCursors", "listCollections", "listIndexes", "listSearchIndexes"),
	privilege(testDB, "system.js", "changeStream", "collStats", "dbHash", "dbStats", "find", "killCursors", "listCollections", "listIndexes", "listSearchIndexes"),
}

// readWriteRole adds what readWrite grants.
var readWriteRole = bson.A{
	privilege(testDB, "", "changeStream", "collStats", "convertToCapped", "createCollection", "createIndex", "dbHash", "dbStats",
		"dropCollection", "dropIndex", "find", "insert", "killCursors", "listCollections", "listIndexes", "listSearchIndexes", "remove", "renameCollectionSameDB", "update"),
}

// cursorReply is a cursor's first (and only) batch.
func cursorReply(ns string, docs ...bson.D) bson.D {
	batch := bson.A{}
	for _, d := range docs {
		batch = append(batch, d)
	}
	return bson.D{{Key: "cursor", Value: bson.D{{Key: "id", Value: int64(0)}, {Key: "ns", Value: ns}, {Key: "firstBatch", Value: batch}}}, {Key: "ok", Value: 1.0}}
}

// journeysSpec is listCollections' entry for journeys.
func journeysSpec(postImages bool) bson.D {
	opts := bson.D{}
	if postImages {
		opts = bson.D{{Key: "changeStreamPreAndPostImages", Value: bson.D{{Key: "enabled", Value: true}}}}
	}
	return bson.D{{Key: "name", Value: "journeys"}, {Key: "type", Value: "collection"}, {Key: "options", Value: opts},
		{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}}},
		{Key: "idIndex", Value: bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}}}
}

// runMock runs f against a mock deployment answering with script.
func runMock(t *testing.T, name string, script []bson.D, f func(mt *mtest.T)) {
	mt := mtest.New(t, mtest.NewOptions().ClientType(mtest.Mock))
	mt.Run(name, func(mt *mtest.T) {
		mt.AddMockResponses(script...)
		f(mt)
	})
}

// sent returns the commands sent, by name, and their documents.
func sent(mt *mtest.T) ([]string, []bson.Raw) {
	var names []string
	var docs []bson.Raw
	for _, e := range mt.GetAllStartedEvents() {
		names = append(names, e.CommandName)
		docs = append(docs, e.Command)
	}
	return names, docs
}

func wantSent(mt *mtest.T, want ...string) []bson.Raw {
	mt.Helper()
	names, docs := sent(mt)
	if !slices.Equal(names, want) {
		mt.Fatalf("commands %v, want %v", names, want)
	}
	return docs
}

func check(mt *mtest.T) (MongoInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return CheckMongo(ctx, OpenMongoDatabase(mt.Client, testDB), "journeys")
}

func TestStartupStandalone(t *testing.T) {
	runMock(t, "standalone", []bson.D{buildInfo("7.0.14", 7, 0, 14), hello("", 21)}, func(mt *mtest.T) {
		_, err := check(mt)
		if !errors.Is(err, ErrNotReplicaSet) {
			mt.Fatalf("CheckMongo: %v, want ErrNotReplicaSet", err)
		}
		// docs/design.md §10: the error names both ways out.
		for _, want := range []string{"replica set", "single-node", "rs.initiate()", "/data/xAPI/statements", "without --mongo-uri"} {
			if !strings.Contains(err.Error(), want) {
				mt.Errorf("error %q does not mention %q", err, want)
			}
		}
		docs := wantSent(mt, "buildInfo", "hello")
		if docs[0].Lookup("buildInfo").AsInt64() != 1 || docs[1].Lookup("hello").AsInt64() != 1 {
			mt.Errorf("commands %v", docs)
		}
	})
}

func TestStartupMongos(t *testing.T) {
	mongos := bson.D{{Key: "isWritablePrimary", Value: true}, {Key: "msg", Value: "isdbgrid"}, {Key: "maxWireVersion", Value: int32(21)}, {Key: "ok", Value: 1.0}}
	script := []bson.D{buildInfo("7.0.14", 7, 0, 14), mongos, connectionStatus("", bson.A{}, bson.A{}), cursorReply(testDB + ".$cmd.listCollections")}
	runMock(t, "mongos", script, func(mt *mtest.T) {
		info, err := check(mt)
		if err != nil || info.Topology != "mongos" || info.PostImages || !info.SplitLargeEvents {
			mt.Fatalf("CheckMongo: %+v, %v", info, err)
		}
		wantSent(mt, "buildInfo", "hello", "connectionStatus", "listCollections")
	})
}

func TestStartupOldServer(t *testing.T) {
	runMock(t, "4.0", []bson.D{buildInfo("4.0.28", 4, 0, 28)}, func(mt *mtest.T) {
		_, err := check(mt)
		if err == nil || !strings.Contains(err.Error(), "MongoDB 4.0.28 is too old") || !strings.Contains(err.Error(), "MongoDB 4.2 or later") {
			mt.Fatalf("CheckMongo: %v, want an error naming MongoDB 4.2", err)
		}
		wantSent(mt, "buildInfo")
	})
	// 4.2.0–4.2.9 lack hello: isMaster answers instead.
	script := []bson.D{
		buildInfo("4.2.8", 4, 2, 8),
		bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "no such command: 'hello'"}, {Key: "code", Value: int32(59)}, {Key: "codeName", Value: "CommandNotFound"}},
		hello("rs0", 8),
		connectionStatus("", bson.A{}, bson.A{}),
	}
	runMock(t, "4.2 without hello", script, func(mt *mtest.T) {
		info, err := check(mt)
		if err != nil || info.Topology != "replica set rs0" || info.WireVersion != 8 || info.SplitLargeEvents || info.PostImages {
			mt.Fatalf("CheckMongo: %+v, %v", info, err)
		}
		// No listCollections: post-images need 6.0.
		wantSent(mt, "buildInfo", "hello", "isMaster", "connectionStatus")
	})
}

func TestStartupReadOnlyUser(t *testing.T) {
	script := []bson.D{
		buildInfo("7.0.14", 7, 0, 14), hello("rs0", 21),
		connectionStatus("reader", bson.A{bson.D{{Key: "role", Value: "read"}, {Key: "db", Value: testDB}}}, readRole),
	}
	runMock(t, "read", script, func(mt *mtest.T) {
		_, err := check(mt)
		if err == nil {
			mt.Fatal("CheckMongo accepted a read-only user")
		}
		msg := err.Error()
		for _, want := range []string{"reader@admin", "insert on learninglocker_v2.journeys", "update on learninglocker_v2.journeys",
			"remove on learninglocker_v2.journeys", "readWrite"} {
			if !strings.Contains(msg, want) {
				mt.Errorf("error %q does not name %q", msg, want)
			}
		}
		if strings.Contains(msg, "changeStream on") || strings.Contains(msg, "find on") {
			mt.Errorf("error %q names a privilege the read role has", msg)
		}
		docs := wantSent(mt, "buildInfo", "hello", "connectionStatus")
		if !docs[2].Lookup("showPrivileges").Boolean() {
			mt.Error("connectionStatus sent without showPrivileges")
		}
	})
	script = []bson.D{
		buildInfo("7.0.14", 7, 0, 14), hello("rs0", 21),
		connectionStatus("journeysd", bson.A{bson.D{{Key: "role", Value: "readWrite"}, {Key: "db", Value: testDB}}}, readWriteRole),
		cursorReply(testDB+".$cmd.listCollections", journeysSpec(true)),
	}
	runMock(t, "readWrite", script, func(mt *mtest.T) {
		info, err := check(mt)
		if err != nil || !info.PostImages || !info.SplitLargeEvents || info.Version != "7.0.14" {
			mt.Fatalf("CheckMongo: %+v, %v", info, err)
		}
		docs := wantSent(mt, "buildInfo", "hello", "connectionStatus", "listCollections")
		if got := docs[3].Lookup("filter").String(); got != `{"name": "journeys"}` {
			mt.Errorf("listCollections filter %s", got)
		}
	})
}

func TestMissingPrivileges(t *testing.T) {
	needs := requiredPrivileges("lrs", "journeys")
	all := func(p Privilege) []Privilege { return []Privilege{p} }
	every := []string{"changeStream", "find", "listCollections", "listIndexes", "insert", "update", "remove"}
	cases := []struct {
		name string
		have []Privilege
		want int // missing needs
	}{
		{"nothing", nil, 7},
		{"database-wide", all(Privilege{PrivilegeResource{DB: "lrs"}, every}), 0},
		{"any database", all(Privilege{PrivilegeResource{}, every}), 0},
		{"anyResource (root)", all(Privilege{PrivilegeResource{AnyResource: true}, every}), 0},
		{"cluster only", all(Privilege{PrivilegeResource{Cluster: true}, every}), 7},
		{"other database", all(Privilege{PrivilegeResource{DB: "other"}, every}), 7},
		// A collection grant does not open a database-wide change stream.
		{"journeys only", all(Privilege{PrivilegeResource{DB: "lrs", Collection: "journeys"}, every}), 4},
		{"read plus journeys writes", []Privilege{
			{PrivilegeResource{DB: "lrs"}, []string{"changeStream", "find", "listCollections", "listIndexes"}},
			{PrivilegeResource{DB: "lrs", Collection: "journeys"}, []string{"insert", "update", "remove"}},
		}, 0},
		{"writes on another collection", []Privilege{
			{PrivilegeResource{DB: "lrs"}, []string{"changeStream", "find", "listCollections", "listIndexes"}},
			{PrivilegeResource{DB: "lrs", Collection: "statements"}, []string{"insert", "update", "remove"}},
		}, 3},
	}
	for _, c := range cases {
		if got := missingPrivileges(c.have, needs); len(got) != c.want {
			t.Errorf("%s: missing %q, want %d", c.name, got, c.want)
		}
	}
}

func TestVersionAtLeast(t *testing.T) {
	cases := []struct {
		v    []int32
		want bool
	}{
		{[]int32{4, 2, 0, 0}, true}, {[]int32{4, 1, 99, 0}, false}, {[]int32{4, 0, 28, 0}, false},
		{[]int32{5, 0, 0, 0}, true}, {[]int32{4, 2}, true}, {[]int32{4}, false}, {nil, false},
	}
	for _, c := range cases {
		if got := versionAtLeast(c.v, 4, 2, 0); got != c.want {
			t.Errorf("versionAtLeast(%v, 4.2.0) = %v", c.v, got)
		}
	}
}

func TestSplitSupport(t *testing.T) {
	for _, c := range []struct {
		version string
		parts   []int32
		wire    int32
		want    bool
	}{
		{"6.0.8", []int32{6, 0, 8}, 17, false},
		{"6.0.9", []int32{6, 0, 9}, 17, true},
		{"6.3.1", []int32{6, 3, 1}, 19, false},
		{"7.0.0", []int32{7, 0, 0}, 21, true},
		{"8.0.3", []int32{8, 0, 3}, 25, true},
	} {
		script := []bson.D{buildInfo(c.version, c.parts...), hello("rs0", c.wire), connectionStatus("", bson.A{}, bson.A{}),
			cursorReply(testDB + ".$cmd.listCollections")}
		runMock(t, c.version, script, func(mt *mtest.T) {
			if info, err := check(mt); err != nil || info.SplitLargeEvents != c.want {
				mt.Errorf("MongoDB %s: %+v %v, want SplitLargeEvents %v", c.version, info, err, c.want)
			}
		})
	}
}

// mockLRS is an LRS on the mock deployment, as openMongo leaves it.
func mockLRS(mt *mtest.T) *LRS {
	l := &LRS{Config: Config{URI: "mongodb://mock", Database: testDB}.withDefaults()}
	l.Client = &lungo.MongoClient{Client: mt.Client}
	l.DB = l.Client.Database(testDB, mongoDatabaseOptions())
	return l
}

// llIndexes is listIndexes on an LL statements collection (its migration's
// indexes, abridged).
func llIndexes(withStored bool) bson.D {
	idx := func(name string, keys bson.D) bson.D {
		return bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: keys}, {Key: "name", Value: name}, {Key: "background", Value: true}}
	}
	docs := []bson.D{
		{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}},
		idx("org_lrs_voided_stored__id", bson.D{{Key: "organisation", Value: int32(1)}, {Key: "lrs_id", Value: int32(1)}, {Key: "voided", Value: int32(1)}, {Key: "stored", Value: int32(-1)}, {Key: "_id", Value: int32(-1)}}),
		idx("org_timestamp__id", bson.D{{Key: "organisation", Value: int32(1)}, {Key: "timestamp", Value: int32(-1)}, {Key: "_id", Value: int32(1)}}),
	}
	if withStored {
		docs = append(docs, idx("org_stored__id", bson.D{{Key: "organisation", Value: int32(1)}, {Key: "stored", Value: int32(-1)}, {Key: "_id", Value: int32(1)}}))
	}
	return cursorReply(testDB+".statements", docs...)
}

// organisationIndex is listIndexes on journeys with {organisation: 1}.
var organisationIndex = cursorReply(testDB+".journeys",
	bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "organisation", Value: int32(1)}}}, {Key: "name", Value: "organisation_1"}})

func TestIndexExistingLL(t *testing.T) {
	runMock(t, "existing", []bson.D{llIndexes(true), organisationIndex}, func(mt *mtest.T) {
		l := mockLRS(mt)
		if err := l.IndexesReady(); err == nil {
			mt.Error("IndexesReady before the check: nil")
		}
		var warned []string
		log := slog.New(hookHandler{func(r slog.Record) {
			if r.Level == slog.LevelWarn {
				warned = append(warned, r.Message)
			}
		}})
		if err := l.BuildIndexes(context.Background(), IndexOptions{Logger: log}); err != nil {
			mt.Fatal(err)
		}
		// LL's migrations build no {stored: -1}: the floor query would
		// scan, and the log says which index to build.
		if len(warned) != 1 || !strings.Contains(warned[0], "db.statements.createIndex({stored: -1})") {
			mt.Errorf("warnings %q, want one naming {stored: -1}", warned)
		}
		// Nothing built: LL's index serves the scan, walked backwards.
		wantSent(mt, "listIndexes", "listIndexes")
		idx, ok := l.ScanIndex()
		if err := l.IndexesReady(); err != nil || !ok || idx.Name != "org_stored__id" || !idx.IDDescending {
			mt.Fatalf("IndexesReady %v, ScanIndex %+v %v; want LL's org_stored__id with descending ties", err, idx, ok)
		}
	})

	// Without it, the build is reported while it runs (a readiness probe
	// sees it), then the ascending index is built.
	created := bson.D{{Key: "numIndexesBefore", Value: int32(3)}, {Key: "numIndexesAfter", Value: int32(4)},
		{Key: "createdCollectionAutomatically", Value: false}, {Key: "commitQuorum", Value: "votingMembers"}, {Key: "ok", Value: 1.0}}
	runMock(t, "missing", []bson.D{llIndexes(false), created, organisationIndex}, func(mt *mtest.T) {
		l := mockLRS(mt)
		var during error
		var once sync.Once
		log := slog.New(hookHandler{func(r slog.Record) {
			if r.Message == "statements index missing: building it" {
				once.Do(func() { during = l.IndexesReady() })
			}
		}})
		if err := l.BuildIndexes(context.Background(), IndexOptions{Logger: log}); err != nil {
			mt.Fatal(err)
		}
		if during == nil || !strings.Contains(during.Error(), "building the statements index organisation_1_stored_1__id_1") {
			mt.Errorf("IndexesReady during the build: %v, want the build named", during)
		}
		docs := wantSent(mt, "listIndexes", "createIndexes", "listIndexes")
		if got, want := docs[1].Lookup("indexes").String(), `[{"key": {"organisation": {"$numberInt":"1"},"stored": {"$numberInt":"1"},"_id": {"$numberInt":"1"}},"name": "organisation_1_stored_1__id_1"}]`; got != want {
			mt.Errorf("createIndexes indexes\n got %s\nwant %s", got, want)
		}
		if got := docs[1].Lookup("writeConcern", "w").StringValue(); got != "majority" {
			mt.Errorf("createIndexes write concern %q, want majority", got)
		}
		if err := l.IndexesReady(); err != nil {
			mt.Errorf("IndexesReady after the build: %v", err)
		}
		if idx, ok := l.ScanIndex(); !ok || idx.Name != "organisation_1_stored_1__id_1" || idx.IDDescending {
			mt.Errorf("ScanIndex %+v %v, want the built index with ascending ties", idx, ok)
		}
	})

	// Opted out: nothing built; readiness names the command to run until
	// the index appears.
	runMock(t, "no build", []bson.D{llIndexes(false), llIndexes(true), organisationIndex}, func(mt *mtest.T) {
		l := mockLRS(mt)
		var during error
		log := slog.New(hookHandler{func(r slog.Record) {
			if r.Message == "statements index missing; not building it" && during == nil {
				during = l.IndexesReady()
			}
		}})
		if err := l.BuildIndexes(context.Background(), IndexOptions{NoBuild: true, Poll: time.Millisecond, Logger: log}); err != nil {
			mt.Fatal(err)
		}
		if during == nil || !strings.Contains(during.Error(), "--no-index-build") || !strings.Contains(during.Error(), "createIndex({organisation: 1, stored: 1, _id: 1}") {
			mt.Errorf("IndexesReady while waiting: %v", during)
		}
		wantSent(mt, "listIndexes", "listIndexes", "listIndexes")
	})

	// A read-only user: the build fails naming the privilege.
	unauthorized := bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "not authorized on learninglocker_v2 to execute command { createIndexes: \"statements\" }"},
		{Key: "code", Value: int32(13)}, {Key: "codeName", Value: "Unauthorized"}}
	runMock(t, "unauthorized", []bson.D{llIndexes(false), unauthorized}, func(mt *mtest.T) {
		l := mockLRS(mt)
		err := l.BuildIndexes(context.Background(), IndexOptions{})
		if err == nil || !strings.Contains(err.Error(), "createIndex on learninglocker_v2.statements") || !strings.Contains(err.Error(), "--no-index-build") {
			mt.Fatalf("BuildIndexes: %v, want the missing privilege named", err)
		}
		if rerr := l.IndexesReady(); rerr == nil || rerr.Error() != err.Error() {
			mt.Errorf("IndexesReady %v, want the failure", rerr)
		}
		wantSent(mt, "listIndexes", "createIndexes")
	})
}

func TestHasStoredIndex(t *testing.T) {
	for _, c := range []struct {
		keys bson.D
		want bool
	}{
		{bson.D{{Key: "stored", Value: -1}}, true},
		{bson.D{{Key: "stored", Value: 1}, {Key: "_id", Value: 1}}, true},
		{bson.D{{Key: "organisation", Value: 1}, {Key: "stored", Value: -1}}, false},
		{bson.D{{Key: "stored", Value: "hashed"}}, false},
	} {
		if got := hasStoredIndex([]*mongoIndexSpec{newSpec("i", c.keys)}); got != c.want {
			t.Errorf("hasStoredIndex(%v) = %v", c.keys, got)
		}
	}
}

func TestFindScanIndex(t *testing.T) {
	spec := func(name string, keys bson.D) *mongoIndexSpec { return newSpec(name, keys) }
	cases := []struct {
		name     string
		specs    []*mongoIndexSpec
		want     string
		idDesc   bool
		wantNone bool
	}{
		{"LL", []*mongoIndexSpec{spec("org_stored__id", bson.D{{Key: "organisation", Value: 1}, {Key: "stored", Value: -1}, {Key: "_id", Value: 1}})}, "org_stored__id", true, false},
		{"ascending", []*mongoIndexSpec{spec("a", bson.D{{Key: "organisation", Value: 1}, {Key: "stored", Value: 1}, {Key: "_id", Value: 1}})}, "a", false, false},
		{"both prefer ascending ties", []*mongoIndexSpec{
			spec("ll", bson.D{{Key: "organisation", Value: 1}, {Key: "stored", Value: -1}, {Key: "_id", Value: 1}}),
			spec("asc", bson.D{{Key: "organisation", Value: -1}, {Key: "stored", Value: -1}, {Key: "_id", Value: -1.0}}),
		}, "asc", false, false},
		{"no _id", []*mongoIndexSpec{spec("s", bson.D{{Key: "organisation", Value: 1}, {Key: "stored", Value: -1}})}, "", false, true},
		{"lrs_id between", []*mongoIndexSpec{spec("v", bson.D{{Key: "organisation", Value: 1}, {Key: "lrs_id", Value: 1}, {Key: "stored", Value: -1}, {Key: "_id", Value: 1}})}, "", false, true},
		{"hashed", []*mongoIndexSpec{spec("h", bson.D{{Key: "organisation", Value: 1}, {Key: "stored", Value: "hashed"}, {Key: "_id", Value: 1}})}, "", false, true},
	}
	for _, c := range cases {
		got, ok := findScanIndex(c.specs)
		if ok == c.wantNone || ok && (got.Name != c.want || got.IDDescending != c.idDesc) {
			t.Errorf("%s: %+v %v", c.name, got, ok)
		}
	}
}

// hookHandler calls f with every log record.
type hookHandler struct{ f func(slog.Record) }

func (h hookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h hookHandler) Handle(_ context.Context, r slog.Record) error {
	h.f(r)
	return nil
}
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h hookHandler) WithGroup(string) slog.Handler      { return h }

type mongoIndexSpec = mongo.IndexSpecification

func newSpec(name string, keys bson.D) *mongoIndexSpec {
	raw, _ := bson.Marshal(keys)
	return &mongo.IndexSpecification{Name: name, KeysDocument: raw}
}

func TestJourneyWritesMajority(t *testing.T) {
	inserted := bson.D{{Key: "n", Value: int32(1)}, {Key: "ok", Value: 1.0}}
	runMock(t, "majority", []bson.D{inserted, inserted}, func(mt *mtest.T) {
		l := mockLRS(mt)
		ctx := context.Background()
		if _, err := l.DB.Collection("journeys").InsertOne(ctx, bson.D{{Key: "name", Value: "j"}}); err != nil {
			mt.Fatal(err)
		}
		if _, err := l.DB.Collection("journeys").UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "k"}}}}); err != nil {
			mt.Fatal(err)
		}
		for _, cmd := range wantSent(mt, "insert", "update") {
			if got := cmd.Lookup("writeConcern").String(); got != `{"w": "majority"}` {
				mt.Errorf("%s sent with writeConcern %s, want {w: majority}", cmd, got)
			}
		}
	})
}

// TestScanFollowsIndexOrder: on a database with Learning Locker's
// org_stored__id, the recalculation scan sorts {stored: 1, _id: -1} — the
// order that index serves walked backwards, so MongoDB needs no blocking
// sort of the organisation's statements — and still hands the statements
// on in ascending (stored, _id) order; with the built ascending index it
// sorts {stored: 1, _id: 1}.
func TestScanFollowsIndexOrder(t *testing.T) {
	org := primitive.ObjectID{0: 1}
	id := func(n byte) primitive.ObjectID { return primitive.ObjectID{11: n} }
	stmt := func(stored int64, n byte) bson.D {
		return bson.D{{Key: "_id", Value: id(n)}, {Key: "organisation", Value: org}, {Key: "stored", Value: primitive.DateTime(stored)}}
	}
	scan := func(mt *mtest.T, l *LRS) []Position {
		mt.Helper()
		var got []Position
		s := NewMongoScanner(l.DB, l.Statements)
		s.Index = l.ScanIndex
		err := s.Scan(context.Background(), ScanQuery{Organisation: org}, func(doc bson.Raw) error {
			got = append(got, Position{Stored: int64(doc.Lookup("stored").DateTime()), ID: doc.Lookup("_id").ObjectID()})
			return nil
		})
		if err != nil {
			mt.Fatal(err)
		}
		return got
	}
	ascending := []Position{{1, id(2)}, {1, id(4)}, {1, id(9)}, {2, id(7)}, {3, id(1)}, {3, id(8)}}

	ascendingIndex := cursorReply(testDB+".statements",
		bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: builtScanIndex.Keys}, {Key: "name", Value: builtScanIndex.Name}})
	for _, tc := range []struct {
		name            string
		indexes, served bson.D // listIndexes on statements; the find's reply
		sort            string
	}{
		{"LL's index", llIndexes(true),
			cursorReply(testDB+".statements", stmt(1, 9), stmt(1, 4), stmt(1, 2), stmt(2, 7), stmt(3, 8), stmt(3, 1)),
			`{"stored": {"$numberInt":"1"},"_id": {"$numberInt":"-1"}}`},
		{"ascending index", ascendingIndex,
			cursorReply(testDB+".statements", stmt(1, 2), stmt(1, 4), stmt(1, 9), stmt(2, 7), stmt(3, 1), stmt(3, 8)),
			`{"stored": {"$numberInt":"1"},"_id": {"$numberInt":"1"}}`},
	} {
		runMock(t, tc.name, []bson.D{tc.indexes, organisationIndex, tc.served}, func(mt *mtest.T) {
			l := mockLRS(mt)
			if err := l.BuildIndexes(context.Background(), IndexOptions{}); err != nil {
				mt.Fatal(err)
			}
			if got := scan(mt, l); !slices.Equal(got, ascending) {
				mt.Errorf("order %v, want %v", got, ascending)
			}
			docs := wantSent(mt, "listIndexes", "listIndexes", "find")
			if got := docs[2].Lookup("sort").String(); got != tc.sort {
				mt.Errorf("find sort %s, want %s", got, tc.sort)
			}
		})
	}
}
