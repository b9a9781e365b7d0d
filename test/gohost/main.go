// gohost: loads the twi plugins with hashicorp/go-plugin's own client (the library SPIRE's
// catalog is built on), so a real go-plugin host checks our handshake, broker, controller and
// gRPC services, then relays one node attestation between the agent and server plugins.
//
// Built in GOPATH mode from Debian's packages (go-plugin 1.0.1, grpc-go 1.33). Messages are
// encoded by hand with a raw codec: the wire format is what SPIRE sends.
//
// usage: gohost AGENT_PLUGIN AGENT_HCL_FILE SERVER_PLUGIN SERVER_HCL_FILE [STEP...]
//
// Without steps it attests once and fails on refusal. Steps run in order, as SPIRE would meet
// them over time: "attest" (prints "attest: ok" or "attest: refused: <status>"),
// "agent=FILE" and "server=FILE" (Configure again with FILE, as SPIRE does on SIGUSR1;
// prints "configure <side>: ok" or "configure <side>: refused: <status>").
package main

import (
	"context"
	"errors"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"strings"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// rawCodec passes already-encoded protobuf bytes through.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// field appends a length-delimited field.
func field(b []byte, num int, data []byte) []byte {
	b = appendVarint(b, uint64(num)<<3|2)
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

type pbField struct {
	num  int
	wire int
	data []byte
	v    uint64
}

func parse(b []byte) ([]pbField, error) {
	var out []pbField
	for len(b) > 0 {
		key, n := readVarint(b)
		if n == 0 {
			return nil, errors.New("bad varint")
		}
		b = b[n:]
		f := pbField{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			f.v, n = readVarint(b)
			b = b[n:]
		case 2:
			l, n := readVarint(b)
			if n == 0 || uint64(len(b)-n) < l {
				return nil, errors.New("bad length")
			}
			f.data = b[n : n+int(l)]
			b = b[n+int(l):]
		default:
			return nil, fmt.Errorf("unexpected wire type %d", f.wire)
		}
		out = append(out, f)
	}
	return out, nil
}

func readVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// rawPlugin hands us the connection go-plugin dialled.
type rawPlugin struct{ plugin.Plugin }
type conn struct {
	cc     *grpc.ClientConn
	broker *plugin.GRPCBroker
}

func (rawPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }
func (rawPlugin) GRPCClient(ctx context.Context, b *plugin.GRPCBroker, cc *grpc.ClientConn) (interface{}, error) {
	return &conn{cc: cc, broker: b}, nil
}

func invoke(cc *grpc.ClientConn, method string, req []byte) ([]byte, error) {
	var resp []byte
	// Generous: a simulating agent may create its RSA-4096 AMD hierarchy inside Configure.
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	err := cc.Invoke(ctx, method, &req, &resp, grpc.ForceCodec(rawCodec{}))
	return resp, err
}

type loaded struct {
	client *plugin.Client
	conn   *conn
}

func load(path, hclFile string, hostServices []string) (*loaded, error) {
	hcl, err := ioutil.ReadFile(hclFile)
	if err != nil {
		return nil, err
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "gohost", Output: os.Stderr, Level: hclog.Debug})
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion: 1, MagicCookieKey: "NodeAttestor", MagicCookieValue: "NodeAttestor"},
		Plugins:          map[string]plugin.Plugin{"twi": &rawPlugin{}},
		Cmd:              exec.Command(path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger,
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("go-plugin client: %v", err)
	}
	raw, err := rpc.Dispense("twi")
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("dispense: %v", err)
	}
	c := raw.(*conn)
	// SPIRE serves its host services on broker id 1; every call answers NOT_FOUND here (the
	// agent store of a fresh server).
	go c.broker.AcceptAndServe(1, func(opts []grpc.ServerOption) *grpc.Server {
		opts = append(opts, grpc.UnknownServiceHandler(func(srv interface{}, stream grpc.ServerStream) error {
			return status.Error(codes.NotFound, "no such agent")
		}))
		return grpc.NewServer(opts...)
	})
	var init []byte
	for _, s := range hostServices {
		init = field(init, 1, []byte(s))
	}
	resp, err := invoke(c.cc, "/spire.service.private.init.v1.Init/Init", init)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("Init: %v", err)
	}
	fields, err := parse(resp)
	if err != nil {
		client.Kill()
		return nil, err
	}
	for _, f := range fields {
		fmt.Printf("%s serves %s\n", path, f.data)
	}
	if err := configure(c, hcl); err != nil {
		client.Kill()
		return nil, fmt.Errorf("Configure: %v", err)
	}
	return &loaded{client: client, conn: c}, nil
}

func configure(c *conn, hcl []byte) error {
	var core []byte
	core = field(core, 1, []byte("example.org"))
	var cfg []byte
	cfg = field(cfg, 1, core)
	cfg = field(cfg, 2, hcl)
	_, err := invoke(c.cc, "/spire.service.common.config.v1.Config/Configure", cfg)
	return err
}

// runSteps runs the optional steps after loading (see the usage above).
func runSteps(agent, server *loaded, steps []string) {
	for _, step := range steps {
		switch {
		case step == "attest":
			if err := attest(agent, server); err != nil {
				fmt.Printf("attest: refused: %v\n", err)
			} else {
				fmt.Println("attest: ok")
			}
		case strings.HasPrefix(step, "agent=") || strings.HasPrefix(step, "server="):
			side, file := step[:strings.Index(step, "=")], step[strings.Index(step, "=")+1:]
			target := agent
			if side == "server" {
				target = server
			}
			hcl, err := ioutil.ReadFile(file)
			if err == nil {
				err = configure(target.conn, hcl)
			}
			if err != nil {
				fmt.Printf("configure %s: refused: %v\n", side, err)
			} else {
				fmt.Printf("configure %s: ok\n", side)
			}
		default:
			fmt.Fprintln(os.Stderr, "unknown step:", step)
			os.Exit(2)
		}
	}
}

func attest(agent, server *loaded) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	desc := &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}
	as, err := agent.conn.cc.NewStream(ctx, desc, "/spire.plugin.agent.nodeattestor.v1.NodeAttestor/AidAttestation", grpc.ForceCodec(rawCodec{}))
	if err != nil {
		return err
	}
	ss, err := server.conn.cc.NewStream(ctx, desc, "/spire.plugin.server.nodeattestor.v1.NodeAttestor/Attest", grpc.ForceCodec(rawCodec{}))
	if err != nil {
		return err
	}
	var msg []byte
	if err := as.RecvMsg(&msg); err != nil {
		return fmt.Errorf("agent payload: %v", err)
	}
	f, err := parse(msg)
	if err != nil || len(f) != 1 || f[0].num != 1 {
		return fmt.Errorf("agent sent no payload")
	}
	req := field(nil, 1, f[0].data)
	if err := ss.SendMsg(&req); err != nil {
		return err
	}
	for {
		var resp []byte
		if err := ss.RecvMsg(&resp); err != nil {
			return fmt.Errorf("server: %v", err)
		}
		f, err := parse(resp)
		if err != nil || len(f) != 1 {
			return fmt.Errorf("server response malformed")
		}
		if f[0].num == 2 {
			attrs, err := parse(f[0].data)
			if err != nil {
				return err
			}
			for _, a := range attrs {
				switch a.num {
				case 1:
					fmt.Printf("agent ID: %s\n", a.data)
				case 2:
					fmt.Printf("selector: twi:%s\n", a.data)
				case 3:
					fmt.Printf("can_reattest: %v\n", a.v == 1)
				}
			}
			return nil
		}
		challenge := field(nil, 1, f[0].data)
		if err := as.SendMsg(&challenge); err != nil {
			return err
		}
		var ar []byte
		if err := as.RecvMsg(&ar); err != nil {
			return fmt.Errorf("agent challenge response: %v", err)
		}
		af, err := parse(ar)
		if err != nil || len(af) != 1 || af[0].num != 2 {
			return fmt.Errorf("agent sent no challenge response")
		}
		next := field(nil, 2, af[0].data)
		if err := ss.SendMsg(&next); err != nil {
			return err
		}
	}
}

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: gohost AGENT_PLUGIN AGENT_HCL SERVER_PLUGIN SERVER_HCL [STEP...]")
		os.Exit(2)
	}
	agent, err := load(os.Args[1], os.Args[2], []string{"spire.hostservice.common.metrics.v1.Metrics"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(1)
	}
	defer agent.client.Kill()
	server, err := load(os.Args[3], os.Args[4], []string{
		"spire.hostservice.server.identityprovider.v1.IdentityProvider",
		"spire.hostservice.server.agentstore.v1.AgentStore",
		"spire.hostservice.common.metrics.v1.Metrics"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
	defer server.client.Kill()
	if len(os.Args) > 5 {
		runSteps(agent, server, os.Args[5:])
		return
	}
	if err := attest(agent, server); err != nil {
		fmt.Fprintln(os.Stderr, "attestation:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
