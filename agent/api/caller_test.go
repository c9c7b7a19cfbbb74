package api

import (
	"context"
	"reflect"
	"testing"

	json "github.com/vpnpass/vpnpass/internal/jsonx"
)

// TestCallerEnvelope: the request's "caller" reaches the handler through
// CallerFrom (absent: cli), a bad one is bad_request, and it is never a
// method parameter (a "caller" inside params stays bad_params).
func TestCallerEnvelope(t *testing.T) {
	_, path := newTestServer(t, func(s *Server) {
		s.Handle("who", func(ctx context.Context, p json.RawMessage) (any, error) {
			if err := DecodeParams(p, &struct{}{}); err != nil {
				return nil, err
			}
			return CallerFrom(ctx), nil
		})
	})
	rc := dialRaw(t, path)
	cases := []struct{ req, want string }{
		{`{"id":1,"method":"who"}`, `{"id":1,"result":{"origin":"cli"}}`},
		{`{"id":2,"method":"who","caller":{"origin":"ubus"}}`, `{"id":2,"result":{"origin":"ubus"}}`},
		{`{"id":3,"method":"who","caller":{"origin":"rpcd","user":"isp"},"params":{}}`, `{"id":3,"result":{"origin":"rpcd","user":"isp"}}`},
		{`{"id":4,"method":"who","caller":null}`, `{"id":4,"result":{"origin":"cli"}}`},
		{`{"id":5,"method":"who","caller":{"origin":"luci"}}`,
			`{"id":5,"error":{"code":"bad_request","message":"caller origin must be one of cli, ubus, rpcd, not \"luci\""}}`},
		{`{"id":6,"method":"who","caller":{"origin":"rpcd","sid":"x"}}`,
			`{"id":6,"error":{"code":"bad_request","message":"caller must be {\"origin\": \"cli\"|\"ubus\"|\"rpcd\", \"user\": \"name\"}: json: unknown field \"sid\""}}`},
		{`{"id":7,"method":"who","caller":{"origin":"rpcd","user":"a\u0000b"}}`,
			`{"id":7,"error":{"code":"bad_request","message":"caller user: \"a\\x00b\" has unprintable characters"}}`},
		{`{"id":8,"method":"who","params":{"caller":{"origin":"rpcd"}}}`,
			`{"id":8,"error":{"code":"bad_params","message":"unknown parameter \"caller\""}}`},
	}
	for _, tc := range cases {
		if got := rc.roundTrip(tc.req); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.req, got, tc.want)
		}
	}
}

// TestClientSendsCaller: Client.Caller goes with every request.
func TestClientSendsCaller(t *testing.T) {
	_, path := newTestServer(t, func(s *Server) {
		s.Handle("who", func(ctx context.Context, _ json.RawMessage) (any, error) { return CallerFrom(ctx), nil })
	})
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, want := range []Caller{{Origin: OriginCLI}, {Origin: OriginRPCD, User: "isp"}} {
		c.Caller = &want
		var got Caller
		if err := c.Call(context.Background(), "who", nil, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("caller %+v: got %+v, %v", want, got, err)
		}
	}
}
