// goplugin: the smallest go-plugin (Debian's hashicorp/go-plugin 1.0.1, GOPATH mode) serving
// gRPC with the handshake SPIRE expects from a NodeAttestor. scripts/bench-startup.py measures
// it beside our C++ plugins: the baseline a plugin's exec-to-handshake time and idle RSS are
// compared against.
package main

import (
	"context"
	"errors"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

type nopPlugin struct{ plugin.NetRPCUnsupportedPlugin }

func (nopPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }
func (nopPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, errors.New("server side only")
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion: 1, MagicCookieKey: "NodeAttestor", MagicCookieValue: "NodeAttestor"},
		Plugins:    map[string]plugin.Plugin{"nop": nopPlugin{}},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
