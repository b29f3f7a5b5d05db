//go:build tools

// Package deps pins the modules the project is built from until code imports them.
package deps

import (
	_ "github.com/eclipse/paho.mqtt.golang"
	_ "github.com/ethereum/go-ethereum/ethclient"
	_ "github.com/influxdata/influxdb-client-go/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/segmentio/kafka-go"
	_ "github.com/transparency-dev/merkle/proof"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/sync/errgroup"
	_ "gonum.org/v1/gonum/stat"
)
