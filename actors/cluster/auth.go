package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// authHeader is the gRPC metadata key of a member's proof of the cluster secret.
const authHeader = "x-bizra-cluster-auth"

// MinSecretLen is the shortest cluster secret accepted.
const MinSecretLen = 16

// authToken is what a member presents: hex HMAC-SHA256(secret, domain || cluster name).
// It never carries the secret itself; it names the cluster so one secret reused for two
// clusters does not join them.
func authToken(secret, cluster string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("bizra-cluster-auth-v1\x00" + cluster))
	return hex.EncodeToString(mac.Sum(nil))
}

// perRPC attaches the token to every call a member makes.
type perRPC struct{ token string }

var _ credentials.PerRPCCredentials = perRPC{}

func (p perRPC) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{authHeader: p.token}, nil
}

// RequireTransportSecurity is false: the remote speaks plain gRPC (loopback by default);
// across machines run it on a private network or tunnel (docs/cluster.md).
func (perRPC) RequireTransportSecurity() bool { return false }

// authorizer checks the token on every call the member serves.
type authorizer struct {
	token   []byte
	refused func()
}

func (a authorizer) check(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(authHeader)
	if len(vals) != 1 || subtle.ConstantTimeCompare([]byte(vals[0]), a.token) != 1 {
		if a.refused != nil {
			a.refused()
		}
		return status.Error(codes.Unauthenticated, "bizra cluster: missing or wrong member credentials")
	}
	return nil
}

// unary refuses every unary call once authenticated: protoactor's remote serves its
// messages over the Receive stream, and its two unary methods (ListProcesses,
// GetProcessDiagnostics) panic "implement me" in the pinned version, which would end
// the process.
func (a authorizer) unary(ctx context.Context, _ any, info *grpc.UnaryServerInfo, _ grpc.UnaryHandler) (any, error) {
	if err := a.check(ctx); err != nil {
		return nil, err
	}
	return nil, status.Errorf(codes.Unimplemented, "bizra cluster: %s is not served", info.FullMethod)
}

// stream authenticates the Receive stream and turns a panic in its handler into an
// Internal status instead of the end of the process.
func (a authorizer) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	if err := a.check(ss.Context()); err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			err = status.Errorf(codes.Internal, "bizra cluster: stream handler panicked: %v", v)
		}
	}()
	return h(srv, ss)
}
