package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/collector"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/kafkatopic"
	"github.com/sunproof/sunproof/internal/service"
)

// common flags of the central services.
type common struct {
	brokers     string
	metricsAddr string
	logFormat   string
	devTopic    string
}

func (c *common) register(fs *flag.FlagSet, metricsPort string) {
	fs.StringVar(&c.brokers, "kafka", env("SUNPROOF_KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka bootstrap brokers, comma-separated (env SUNPROOF_KAFKA_BROKERS)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "127.0.0.1:"+metricsPort, "serve /metrics here; empty to disable")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.devTopic, "devices-topic", devices.DefaultTopic, "compacted registry topic")
}

func runCollect(args []string) error {
	fs := flag.NewFlagSet("collect", flag.ExitOnError)
	var c common
	c.register(fs, "9471")
	cfg := collector.DefaultConfig()
	fs.StringVar(&cfg.MQTTURL, "mqtt", env("SUNPROOF_MQTT_URL", cfg.MQTTURL), "MQTT broker URL (env SUNPROOF_MQTT_URL)")
	fs.StringVar(&cfg.ClientID, "client-id", cfg.ClientID, "stable MQTT client id prefix (persistent sessions); give each collector its own")
	fs.StringVar(&cfg.ShareGroup, "share-group", cfg.ShareGroup, "shared subscription group")
	fs.IntVar(&cfg.Lanes, "lanes", cfg.Lanes, "MQTT connections on the shared subscription")
	fs.IntVar(&cfg.BatchSize, "batch", cfg.BatchSize, "max messages per Kafka write")
	fs.DurationVar(&cfg.BatchLinger, "linger", cfg.BatchLinger, "max wait to fill a batch")
	fs.IntVar(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of the readings topic when creating it")
	fs.StringVar(&cfg.Topic, "readings-topic", cfg.Topic, "Kafka topic for valid readings")
	fs.StringVar(&cfg.RejectTopic, "rejects-topic", cfg.RejectTopic, "Kafka topic for rejects")
	fs.StringVar(&cfg.TLS.CAFile, "tls-ca", "", "CA file for ssl:// brokers")
	fs.StringVar(&cfg.TLS.CertFile, "tls-cert", "", "client certificate for ssl:// brokers")
	fs.StringVar(&cfg.TLS.KeyFile, "tls-key", "", "client key for ssl:// brokers")
	_ = fs.Parse(args)
	cfg.Brokers = splitList(c.brokers)
	log := service.Logger(c.logFormat)
	reg := service.NewRegistry()
	devs, err := devices.NewRegistry(devices.Config{Brokers: cfg.Brokers, Topic: c.devTopic}, log, reg)
	if err != nil {
		return err
	}
	col, err := collector.New(cfg, devs, log, reg)
	if err != nil {
		return err
	}
	ctx, stop := service.SignalContext()
	defer stop()
	if err := devices.EnsureTopic(ctx, cfg.Brokers, c.devTopic); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return devs.Run(ctx) })
	g.Go(func() error { return service.ServeMetrics(ctx, c.metricsAddr, reg, log) })
	g.Go(func() error {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := devs.WaitReady(wctx); err != nil {
			return fmt.Errorf("device registry not ready: %w", err)
		}
		log.Info("collector starting", "mqtt", cfg.MQTTURL, "lanes", cfg.Lanes, "devices", len(devs.Devices()))
		return col.Run(ctx)
	})
	return g.Wait()
}

func runWriteTSDB(args []string) error {
	fs := flag.NewFlagSet("write-tsdb", flag.ExitOnError)
	var c common
	c.register(fs, "9472")
	cfg := tsdbwriter.DefaultConfig()
	fs.StringVar(&cfg.InfluxURL, "influx", env("SUNPROOF_INFLUX_URL", cfg.InfluxURL), "InfluxDB URL (env SUNPROOF_INFLUX_URL)")
	fs.StringVar(&cfg.Bucket, "bucket", env("SUNPROOF_INFLUX_BUCKET", cfg.Bucket), "bucket (\"db\" or \"db/rp\" on InfluxDB 1.8)")
	fs.StringVar(&cfg.Token, "token", env("SUNPROOF_INFLUX_TOKEN", ""), "InfluxDB token (env SUNPROOF_INFLUX_TOKEN)")
	fs.StringVar(&cfg.GroupID, "group", cfg.GroupID, "Kafka consumer group")
	fs.StringVar(&cfg.Topic, "readings-topic", cfg.Topic, "Kafka topic to read")
	fs.StringVar(&cfg.RejectTopic, "rejects-topic", cfg.RejectTopic, "Kafka topic for points InfluxDB refuses")
	fs.IntVar(&cfg.BatchSize, "batch", cfg.BatchSize, "points per InfluxDB write")
	fs.DurationVar(&cfg.BatchLinger, "linger", cfg.BatchLinger, "max wait to fill a batch")
	_ = fs.Parse(args)
	cfg.Brokers = splitList(c.brokers)
	log := service.Logger(c.logFormat)
	reg := service.NewRegistry()
	w, err := tsdbwriter.New(cfg, log, reg)
	if err != nil {
		return err
	}
	ctx, stop := service.SignalContext()
	defer stop()
	if err := kafkatopic.Ensure(ctx, cfg.Brokers, kafkatopic.Spec{Name: cfg.Topic, Partitions: collector.DefaultConfig().Partitions},
		kafkatopic.Spec{Name: cfg.RejectTopic, Partitions: 1}); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return service.ServeMetrics(ctx, c.metricsAddr, reg, log) })
	g.Go(func() error {
		log.Info("tsdb writer starting", "influx", cfg.InfluxURL, "bucket", cfg.Bucket)
		return w.Run(ctx)
	})
	return g.Wait()
}
