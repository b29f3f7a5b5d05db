package anchor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// kafkaConsumer is the batcher's consumer on a kafka-go consumer group. A
// group generation is a session: its partitions are read by one
// partition reader each, started at offsets the batcher chooses (the
// group's committed offsets are only a hint: the proof store decides), and
// offsets are committed explicitly through the generation.
type kafkaConsumer struct {
	cfg   BatcherConfig
	log   *slog.Logger
	group *kafka.ConsumerGroup
	err   error // from NewConsumerGroup

	// The current generation; replaced by Join.
	gen   *kafka.Generation
	stop  chan struct{} // close to end the generation
	ended chan struct{} // closed when the generation has ended
	msgs  chan kafka.Message
}

// Group timing: a batcher that crashed is replaced quickly (its member
// times out after sessionTimeout), and a restarted one waits at most
// rebalanceTimeout for the old member.
const (
	groupSessionTimeout   = 10 * time.Second
	groupRebalanceTimeout = 10 * time.Second
	groupRetention        = 7 * 24 * time.Hour
)

func newKafkaConsumer(cfg BatcherConfig, logger *slog.Logger) *kafkaConsumer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	k := &kafkaConsumer{cfg: cfg, log: logger.With("component", "anchor-consumer", "group", cfg.Group)}
	k.group, k.err = kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: cfg.Group, Brokers: cfg.Brokers, Topics: []string{cfg.Topic},
		StartOffset:           kafka.FirstOffset,
		WatchPartitionChanges: true,
		SessionTimeout:        groupSessionTimeout,
		RebalanceTimeout:      groupRebalanceTimeout,
		RetentionTime:         groupRetention,
	})
	return k
}

// Join ends the current generation, if any, and waits for the next. It
// fails if this member is not assigned every partition of the topic: the
// batcher's state is one proof store, so it must be the group's only
// member. Right after a crash the dead process's member may still hold
// partitions until its session times out, so a partial assignment is
// retried for a while before it is an error.
func (k *kafkaConsumer) Join(ctx context.Context) (map[int]int64, error) {
	if k.err != nil {
		return nil, fmt.Errorf("consumer group %s: %w", k.cfg.Group, k.err)
	}
	k.endGeneration()
	deadline := time.Now().Add(3 * groupSessionTimeout)
	for {
		gen, err := k.group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				return nil, err
			}
			k.log.Warn("joining the consumer group failed; retrying", "err", err)
			if err := sleepCtx(ctx, time.Second); err != nil {
				return nil, err
			}
			continue
		}
		k.gen, k.stop, k.ended = gen, make(chan struct{}), make(chan struct{})
		stop, ended := k.stop, k.ended
		gen.Start(func(gctx context.Context) {
			select {
			case <-gctx.Done():
			case <-stop:
			}
			close(ended)
		})
		out := map[int]int64{}
		for _, pa := range gen.Assignments[k.cfg.Topic] {
			out[pa.ID] = max(pa.Offset, -1) // FirstOffset (-2) when nothing is committed
		}
		n, err := k.partitions(ctx)
		if err != nil {
			k.endGeneration()
			return nil, err
		}
		if len(out) < n {
			k.endGeneration()
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("consumer group %s assigns %d of the %d partitions of %s to this member: "+
					"another member holds the rest; run exactly one anchor batcher per group and proof store", k.cfg.Group, len(out), n, k.cfg.Topic)
			}
			k.log.Warn("assigned only some partitions (a crashed member not yet expired?); rejoining",
				"generation", gen.ID, "assigned", len(out), "partitions", n)
			if err := sleepCtx(ctx, time.Second); err != nil {
				return nil, err
			}
			continue
		}
		k.log.Info("joined the consumer group", "generation", gen.ID, "partitions", len(out))
		return out, nil
	}
}

// partitions returns the topic's partition count.
func (k *kafkaConsumer) partitions(ctx context.Context) (int, error) {
	c := &kafka.Client{Addr: kafka.TCP(k.cfg.Brokers...), Timeout: 10 * time.Second}
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{k.cfg.Topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata of %s: %w", k.cfg.Topic, err)
	}
	for _, t := range md.Topics {
		if t.Name == k.cfg.Topic {
			if t.Error != nil {
				return 0, fmt.Errorf("topic %s: %w", k.cfg.Topic, t.Error)
			}
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("topic %s does not exist", k.cfg.Topic)
}

// Start reads each partition from its offset (-1: the first) until the
// generation ends.
func (k *kafkaConsumer) Start(_ context.Context, from map[int]int64) error {
	if k.gen == nil {
		return errors.New("kafka consumer: Start before Join")
	}
	msgs := make(chan kafka.Message, 1024)
	k.msgs = msgs
	for p, off := range from {
		k.gen.Start(func(gctx context.Context) {
			r := kafka.NewReader(kafka.ReaderConfig{
				Brokers: k.cfg.Brokers, Topic: k.cfg.Topic, Partition: p,
				MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond,
			})
			defer r.Close()
			start := off
			if start < 0 {
				start = kafka.FirstOffset
			}
			if err := r.SetOffset(start); err != nil {
				// Returning ends the generation: the batcher starts over.
				k.log.Error("seek failed", "partition", p, "offset", start, "err", err)
				return
			}
			for {
				m, err := r.FetchMessage(gctx)
				if err != nil {
					if gctx.Err() != nil {
						return
					}
					k.log.Warn("fetch failed; retrying", "partition", p, "err", err)
					select {
					case <-gctx.Done():
						return
					case <-time.After(time.Second):
					}
					continue
				}
				select {
				case msgs <- m:
				case <-gctx.Done():
					return
				}
			}
		})
	}
	return nil
}

// Fetch returns the next message of any partition.
func (k *kafkaConsumer) Fetch(ctx context.Context) (SourceMessage, error) {
	select {
	case m := <-k.msgs:
		return SourceMessage{Partition: m.Partition, Offset: m.Offset, HighWaterMark: m.HighWaterMark, Value: m.Value, Time: m.Time}, nil
	case <-k.ended:
		return SourceMessage{}, ErrSessionEnded
	case <-ctx.Done():
		return SourceMessage{}, ctx.Err()
	}
}

// Commit commits the next offsets to read through the generation.
func (k *kafkaConsumer) Commit(_ context.Context, offsets map[int]int64) error {
	select {
	case <-k.ended:
		return ErrSessionEnded
	default:
	}
	if err := k.gen.CommitOffsets(map[string]map[int]int64{k.cfg.Topic: offsets}); err != nil {
		select {
		case <-k.ended:
			return ErrSessionEnded
		default:
		}
		return fmt.Errorf("commit offsets of group %s: %w", k.cfg.Group, err)
	}
	return nil
}

// endGeneration ends the current generation and waits until it has.
func (k *kafkaConsumer) endGeneration() {
	if k.stop == nil {
		return
	}
	close(k.stop)
	<-k.ended
	k.stop = nil
}

// Close leaves the group.
func (k *kafkaConsumer) Close() error {
	if k.group == nil {
		return nil
	}
	k.endGeneration()
	return k.group.Close()
}
