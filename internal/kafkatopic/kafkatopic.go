// Package kafkatopic creates the Kafka topics a service needs at start-up,
// explicitly and idempotently (the brokers run with
// auto.create.topics.enable=false), and waits until each has leaders.
package kafkatopic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
)

// Spec describes one topic.
type Spec struct {
	Name       string
	Partitions int
	Config     map[string]string // e.g. cleanup.policy=compact, retention.ms
}

// Ensure creates the topics that do not exist yet and waits until every
// partition of every topic has a leader. An existing topic is left as it is,
// whatever its partition count: growing a topic changes which partition a
// key maps to, so it is an operator's decision, not a start-up side effect.
func Ensure(ctx context.Context, brokers []string, specs ...Spec) error {
	if len(brokers) == 0 {
		return errors.New("ensure topics: no brokers")
	}
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	req := &kafka.CreateTopicsRequest{}
	for _, s := range specs {
		tc := kafka.TopicConfig{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: -1}
		for k, v := range s.Config {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		req.Topics = append(req.Topics, tc)
	}
	res, err := c.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for name, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	for {
		err := ready(ctx, c, names)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for topics %v: %w (last: %v)", names, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func ready(ctx context.Context, c *kafka.Client, names []string) error {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		return err
	}
	for _, t := range md.Topics {
		if t.Error != nil {
			return fmt.Errorf("topic %s: %w", t.Name, t.Error)
		}
		if len(t.Partitions) == 0 {
			return fmt.Errorf("topic %s has no partitions yet", t.Name)
		}
		for _, p := range t.Partitions {
			if p.Error != nil || p.Leader.Host == "" {
				return fmt.Errorf("topic %s partition %d has no leader", t.Name, p.ID)
			}
		}
	}
	return nil
}

// Reachable dials the first reachable broker, for clear start-up errors.
func Reachable(ctx context.Context, brokers []string) error {
	var d net.Dialer
	var errs []error
	for _, b := range brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			conn.Close()
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("no kafka broker reachable: %w", errors.Join(errs...))
}
