// Package teststack gives integration tests the addresses of the local
// stack (scripts/stack.sh) and fails them when a server is missing.
//
// Integration tests call Require. Under `go test -short` they skip (that is
// `make test-unit`); otherwise an unreachable server is a test failure,
// never a silent skip, so CI cannot pass without the real servers.
package teststack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/internal/influxql"
)

// Env holds the local stack's addresses, from SUNPROOF_* variables with the
// stack's defaults.
type Env struct {
	MQTTURL   string   // SUNPROOF_MQTT_URL, tcp://127.0.0.1:1883
	MQTTSURL  string   // SUNPROOF_MQTTS_URL, ssl://127.0.0.1:8883
	Brokers   []string // SUNPROOF_KAFKA_BROKERS, 127.0.0.1:9092
	InfluxURL string   // SUNPROOF_INFLUX_URL, http://127.0.0.1:8086
	EthRPC    string   // SUNPROOF_ETH_RPC, http://127.0.0.1:8545
	CADir     string   // SUNPROOF_CA_DIR
}

func get(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Load reads the environment without checking anything.
func Load() Env {
	return Env{
		MQTTURL:   get("SUNPROOF_MQTT_URL", "tcp://127.0.0.1:1883"),
		MQTTSURL:  get("SUNPROOF_MQTTS_URL", "ssl://127.0.0.1:8883"),
		Brokers:   strings.Split(get("SUNPROOF_KAFKA_BROKERS", "127.0.0.1:9092"), ","),
		InfluxURL: get("SUNPROOF_INFLUX_URL", "http://127.0.0.1:8086"),
		EthRPC:    get("SUNPROOF_ETH_RPC", "http://127.0.0.1:8545"),
		CADir:     get("SUNPROOF_CA_DIR", ""),
	}
}

// Server names for Require.
const (
	MQTT   = "mqtt"
	Kafka  = "kafka"
	Influx = "influx"
	Eth    = "eth"
)

// Require skips under -short and otherwise fails the test unless each named
// server accepts connections.
func Require(t testing.TB, servers ...string) Env {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the local stack (run `make test`)")
	}
	e := Load()
	for _, s := range servers {
		var addr string
		switch s {
		case MQTT:
			addr = hostPort(e.MQTTURL)
		case Kafka:
			addr = e.Brokers[0]
		case Influx:
			addr = hostPort(e.InfluxURL)
		case Eth:
			addr = hostPort(e.EthRPC)
		default:
			t.Fatalf("teststack: unknown server %q", s)
		}
		conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			t.Fatalf("%s is not reachable at %s (%v): start the local stack with `make up` (scripts/stack.sh up)", s, addr, err)
		}
		conn.Close()
	}
	return e
}

func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

// RunID returns a short random id that keeps one test run's topics,
// databases, client ids and device ids apart from every other run's.
func RunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// InfluxQL runs one InfluxQL statement against db ("" for none) and returns the JSON body.
func InfluxQL(ctx context.Context, base, db, q string) ([]byte, error) {
	body, err := influxql.New(influxql.Server{URL: base, Database: db}, nil).Query(ctx, q, 0)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return io.ReadAll(body)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
