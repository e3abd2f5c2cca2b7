package lrs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// Minimum server: startAfter, with which every reopen of the change stream
// starts (it also passes an invalidate event), arrived in MongoDB 4.2,
// wire version 8.
const (
	minVersion     = "4.2"
	minWireVersion = 8
)

// Wire versions of the releases that add what journeysd uses when present.
const (
	wireVersion60 = 17 // fullDocument: whenAvailable (post-images)
	wireVersion70 = 21 // $changeStreamSplitLargeEvent (also 6.0.9+)
)

// MongoInfo is what the startup checks learnt about the MongoDB deployment,
// for the change stream's options.
type MongoInfo struct {
	// Version is the server's version string (buildInfo).
	Version string
	// WireVersion is the server's maxWireVersion (hello).
	WireVersion int32
	// Topology is "replica set <name>" or "mongos".
	Topology string
	// PostImages reports that the journeys collection stores post-images
	// (changeStreamPreAndPostImages enabled, MongoDB 6.0+): the stream can
	// ask for fullDocument "whenAvailable" and see every edit of a journey
	// as it was made.
	PostImages bool
	// SplitLargeEvents reports that the server supports
	// $changeStreamSplitLargeEvent (MongoDB 7.0, 6.0.9+).
	SplitLargeEvents bool
}

// ErrNotReplicaSet is wrapped by the error CheckMongo returns for a
// standalone server, which has no change streams.
var ErrNotReplicaSet = errors.New("MongoDB is not a replica set")

// notReplicaSetHelp names the two ways out of ErrNotReplicaSet (docs/design.md §10).
const notReplicaSetHelp = "journeysd follows the LRS through a change stream, which needs a replica set or a sharded cluster. " +
	"Either run MongoDB as a replica set (a single-node one is enough: start mongod with --replSet rs0 and run rs.initiate() once), " +
	"or run journeysd without --mongo-uri and let the LRS forward its statements to journeysd's embedded statement resource " +
	"(POST /data/xAPI/statements; Learning Locker: statement forwarding)"

// CheckMongo checks, before anything else runs, that the deployment db
// belongs to can serve journeysd, and returns what it learnt. It fails,
// with a message that says what to do, on a server older than MongoDB 4.2
// (buildInfo), on a standalone server (hello; wrapping ErrNotReplicaSet),
// and on a database user who lacks a privilege journeysd needs
// (connectionStatus; see requiredPrivileges). Finally it reads whether the
// journeys collection keeps post-images (listCollections).
func CheckMongo(ctx context.Context, db *mongo.Database, journeys string) (MongoInfo, error) {
	var info MongoInfo
	var build struct {
		Version      string  `bson:"version"`
		VersionArray []int32 `bson:"versionArray"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&build); err != nil {
		return info, fmt.Errorf("lrs: read the MongoDB version (buildInfo): %w", err)
	}
	info.Version = build.Version
	if !versionAtLeast(build.VersionArray, 4, 2, 0) {
		return info, fmt.Errorf("lrs: MongoDB %s is too old: journeysd needs MongoDB %s or later (its change stream resumes with startAfter)", build.Version, minVersion)
	}
	info.SplitLargeEvents = versionAtLeast(build.VersionArray, 7, 0, 0) ||
		versionAtLeast(build.VersionArray, 6, 0, 9) && !versionAtLeast(build.VersionArray, 6, 1, 0)

	var hello struct {
		SetName        string `bson:"setName"`
		Msg            string `bson:"msg"`
		MaxWireVersion int32  `bson:"maxWireVersion"`
	}
	err := db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello)
	var se mongo.ServerError
	if errors.As(err, &se) && se.HasErrorCode(59) { // CommandNotFound: 4.2.0–4.2.9 predate hello
		err = db.RunCommand(ctx, bson.D{{Key: "isMaster", Value: 1}}).Decode(&hello)
	}
	if err != nil {
		return info, fmt.Errorf("lrs: read the MongoDB topology (hello): %w", err)
	}
	info.WireVersion = hello.MaxWireVersion
	switch {
	case hello.SetName != "":
		info.Topology = "replica set " + hello.SetName
	case hello.Msg == "isdbgrid":
		info.Topology = "mongos"
	default:
		return info, fmt.Errorf("lrs: %w (a standalone server has no change streams). %s", ErrNotReplicaSet, notReplicaSetHelp)
	}
	if hello.MaxWireVersion < minWireVersion {
		return info, fmt.Errorf("lrs: MongoDB %s (wire version %d) is too old: journeysd needs MongoDB %s or later (its change stream resumes with startAfter)",
			build.Version, hello.MaxWireVersion, minVersion)
	}
	info.SplitLargeEvents = info.SplitLargeEvents && hello.MaxWireVersion >= wireVersion60

	if err := checkPrivileges(ctx, db, journeys); err != nil {
		return info, err
	}
	if hello.MaxWireVersion >= wireVersion60 {
		if info.PostImages, err = postImagesEnabled(ctx, db, journeys); err != nil {
			return info, err
		}
	}
	return info, nil
}

// versionAtLeast reports whether the version array v (buildInfo's
// versionArray) is at least major.minor.patch.
func versionAtLeast(v []int32, major, minor, patch int32) bool {
	want := []int32{major, minor, patch}
	for i, w := range want {
		var got int32
		if i < len(v) {
			got = v[i]
		}
		if got != w {
			return got > w
		}
	}
	return true
}

// postImagesEnabled reports whether the collection coll exists with
// changeStreamPreAndPostImages enabled.
func postImagesEnabled(ctx context.Context, db *mongo.Database, coll string) (bool, error) {
	specs, err := db.ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: coll}})
	if err != nil {
		return false, fmt.Errorf("lrs: read the options of %s (listCollections): %w", coll, err)
	}
	for _, s := range specs {
		if s.Name == coll && s.Options != nil {
			if v, err := s.Options.LookupErr("changeStreamPreAndPostImages", "enabled"); err == nil {
				return v.Boolean(), nil
			}
		}
	}
	return false, nil
}

// checkPrivileges fails with a message naming every privilege journeysd
// needs and the connected user lacks. Without authentication (no user
// authenticated) there is nothing to check: either access control is off,
// or every command fails with its own Unauthorized error.
func checkPrivileges(ctx context.Context, db *mongo.Database, journeys string) error {
	var status struct {
		AuthInfo struct {
			Users []struct {
				User string `bson:"user"`
				DB   string `bson:"db"`
			} `bson:"authenticatedUsers"`
			Privileges []Privilege `bson:"authenticatedUserPrivileges"`
		} `bson:"authInfo"`
	}
	cmd := bson.D{{Key: "connectionStatus", Value: 1}, {Key: "showPrivileges", Value: true}}
	if err := db.RunCommand(ctx, cmd).Decode(&status); err != nil {
		return fmt.Errorf("lrs: read the database user's privileges (connectionStatus): %w", err)
	}
	if len(status.AuthInfo.Users) == 0 {
		return nil
	}
	missing := missingPrivileges(status.AuthInfo.Privileges, requiredPrivileges(db.Name(), journeys))
	if len(missing) == 0 {
		return nil
	}
	u := status.AuthInfo.Users[0]
	return fmt.Errorf("lrs: the MongoDB user %s@%s lacks privileges journeysd needs: %s "+
		"(grant the role readWrite on database %s, or a role with these actions; see README, MongoDB user)",
		u.User, u.DB, strings.Join(missing, "; "), db.Name())
}
