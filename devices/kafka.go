package devices

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// DefaultTopic is the registry topic's default name.
const DefaultTopic = "pv.devices"

// ErrTopicConfig is returned when the registry topic exists but cannot hold a
// registry: more than one partition (the Registry reads partition 0 only, and
// last-write-wins needs one total order) or a cleanup.policy other than
// "compact" (retention would delete devices).
var ErrTopicConfig = errors.New("devices: registry topic misconfigured")

// errNotCompacted wraps ErrTopicConfig; checkTopic returns it together with
// valid offsets.
var errNotCompacted = fmt.Errorf("cleanup.policy is not compact: %w", ErrTopicConfig)

// errTopicMissing is returned by checkTopic while the topic does not exist.
var errTopicMissing = errors.New("devices: registry topic does not exist")

// topicConfigEntries are the topic-level settings EnsureTopic creates the
// topic with. Compaction keeps the latest record of every key forever.
func topicConfigEntries() []kafka.ConfigEntry {
	return []kafka.ConfigEntry{
		{ConfigName: "cleanup.policy", ConfigValue: "compact"},
	}
}

func newClient(brokers []string) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
}

// EnsureTopic creates the registry topic (1 partition, the cluster's default
// replication factor, cleanup.policy=compact) if it does not exist, and
// waits until its partition has a leader. If the topic exists already it is
// checked instead: an error wrapping ErrTopicConfig means it has more than
// one partition or is not compacted, and must be fixed by hand.
//
// The cluster must support CreateTopics v4 (Kafka 2.4 or later) for the
// default replication factor.
func EnsureTopic(ctx context.Context, brokers []string, topic string) error {
	if len(brokers) == 0 {
		return errors.New("ensure topic: no brokers")
	}
	client := newClient(brokers)
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{
			Topic:             topic,
			NumPartitions:     1,
			ReplicationFactor: -1,
			ConfigEntries:     topicConfigEntries(),
		}},
	})
	if err != nil {
		return fmt.Errorf("ensure topic %s: %w", topic, err)
	}
	if err := res.Errors[topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("ensure topic %s: create: %w", topic, err)
	}
	// Creation is asynchronous: wait until metadata shows a leader.
	for {
		_, err := checkTopic(ctx, client, topic)
		if err == nil || errors.Is(err, ErrTopicConfig) {
			if err != nil {
				return fmt.Errorf("ensure topic %s: %w", topic, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ensure topic %s: %w (last: %v)", topic, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// topicState is what checkTopic learns about the registry topic.
type topicState struct {
	first, last int64 // offsets of partition 0; last is the high-water mark
	compacted   bool
}

// checkTopic returns the offsets of partition 0 of topic. It fails with
// errTopicMissing while the topic does not exist, with ErrTopicConfig if it
// has more than one partition, and with other (transient) errors while the
// partition has no leader or the cluster is unreachable. A topic that is not
// compacted yields errNotCompacted together with valid offsets.
func checkTopic(ctx context.Context, client *kafka.Client, topic string) (topicState, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return topicState{}, err
	}
	var found *kafka.Topic
	for i := range md.Topics {
		if md.Topics[i].Name == topic {
			found = &md.Topics[i]
		}
	}
	switch {
	case found == nil, errors.Is(found.Error, kafka.UnknownTopicOrPartition):
		return topicState{}, errTopicMissing
	case found.Error != nil:
		return topicState{}, fmt.Errorf("metadata: %w", found.Error)
	case len(found.Partitions) != 1:
		return topicState{}, fmt.Errorf("%d partitions, want 1: %w", len(found.Partitions), ErrTopicConfig)
	case found.Partitions[0].Error != nil:
		return topicState{}, fmt.Errorf("partition 0: %w", found.Partitions[0].Error)
	case found.Partitions[0].Leader.Host == "":
		return topicState{}, errors.New("partition 0 has no leader")
	}

	cfg, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{
			ResourceType: kafka.ResourceTypeTopic,
			ResourceName: topic,
			ConfigNames:  []string{"cleanup.policy"},
		}},
	})
	if err != nil {
		return topicState{}, err
	}
	var st topicState
	for _, r := range cfg.Resources {
		if r.Error != nil {
			return topicState{}, fmt.Errorf("describe configs: %w", r.Error)
		}
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "cleanup.policy" {
				st.compacted = e.ConfigValue == "compact"
			}
		}
	}

	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{
		Topics: map[string][]kafka.OffsetRequest{
			topic: {kafka.FirstOffsetOf(0), kafka.LastOffsetOf(0)},
		},
	})
	if err != nil {
		return topicState{}, err
	}
	ps := offs.Topics[topic]
	if len(ps) != 1 {
		return topicState{}, fmt.Errorf("list offsets: %d partitions in answer", len(ps))
	}
	if ps[0].Error != nil {
		return topicState{}, fmt.Errorf("list offsets: %w", ps[0].Error)
	}
	st.first, st.last = ps[0].FirstOffset, ps[0].LastOffset
	if !st.compacted {
		return st, errNotCompacted
	}
	return st, nil
}

// Publisher writes device and site records to the registry topic. Each Put
// returns once all in-sync replicas have the records (RequiredAcks =
// RequireAll), so a record a Put succeeded for is never lost.
//
// Records for the same key must not be written concurrently: their order on
// the topic, and so which one wins, would be undefined.
type Publisher struct {
	w *kafka.Writer
}

// NewPublisher returns a Publisher for the registry topic. It does not
// create the topic (see EnsureTopic) and never auto-creates it.
func NewPublisher(brokers []string, topic string) *Publisher {
	return &Publisher{w: &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		Balancer:               partitionZero{},
		RequiredAcks:           kafka.RequireAll,
		Async:                  false,
		BatchTimeout:           5 * time.Millisecond,
		WriteTimeout:           10 * time.Second,
		AllowAutoTopicCreation: false,
	}}
}

// partitionZero sends every record to partition 0, which is the only one the
// Registry reads.
type partitionZero struct{}

func (partitionZero) Balance(kafka.Message, ...int) int { return 0 }

// Put validates and writes records in one batch, in order.
func (p *Publisher) Put(ctx context.Context, recs ...Record) error {
	msgs := make([]kafka.Message, len(recs))
	for i, r := range recs {
		k, v, err := EncodeRecord(r)
		if err != nil {
			return err
		}
		msgs[i] = kafka.Message{Key: k, Value: v}
	}
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("publish %d registry records to %s: %w", len(msgs), p.w.Topic, err)
	}
	return nil
}

// PutDevice validates d and writes it; it replaces any previous record of the
// same device id.
func (p *Publisher) PutDevice(ctx context.Context, d Device) error {
	return p.Put(ctx, DeviceRecord(d))
}

// PutSite validates s and writes it; it replaces any previous record of the
// same site id.
func (p *Publisher) PutSite(ctx context.Context, s Site) error {
	return p.Put(ctx, SiteRecord(s))
}

// Close flushes and closes the underlying writer.
func (p *Publisher) Close() error { return p.w.Close() }
