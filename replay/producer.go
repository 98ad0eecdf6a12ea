package replay

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaVersion is the protocol version of the sarama client that replay uses for metadata,
// offsets and resume reads. It is set explicitly because sarama's default is an old version
// without record headers. (Records are produced with franz-go, which negotiates versions.)
var KafkaVersion = sarama.V3_6_0_0

// Record is one message for Producer.Send.
type Record struct {
	Topic   string
	Key     []byte
	Value   []byte
	Time    time.Time // the event time; it becomes the Kafka record timestamp
	Headers []sarama.RecordHeader
	// Meta is handed back to the acknowledgement callbacks.
	Meta any

	// kr is the franz-go record Send builds: part of Record so that a record in flight costs one
	// allocation, not two.
	kr kgo.Record
	kh [2]kgo.RecordHeader // backs kr.Headers for up to two headers
}

// ProducerStats counts a Producer's records.
type ProducerStats struct {
	Sent   int64 // handed to Send
	Acked  int64 // acknowledged by the broker (all in-sync replicas)
	Failed int64 // given up on: lost unless the caller sends them again
}

// Producer sends keyed, timestamped records through a batching, compressing, idempotent
// franz-go client and counts acknowledgements, so its user knows exactly what reached the broker.
// Records with the same key go to the same partition, the one goka's default hasher picks (see
// gokaPartition). It is safe for concurrent use.
//
// franz-go rather than sarama's AsyncProducer: at replay's record sizes sarama spends most of its
// time per message (channels between goroutines, size accounting, headers encoded one by one)
// and allows one produce request in flight per broker when idempotent, where franz-go allows
// five; see docs/decisions.md for the measurements.
type Producer struct {
	client sarama.Client // metadata, offsets and resume reads; produces nothing
	kc     *kgo.Client
	cfg    producerConfig
	// slots holds one token per record handed to kc and not yet finished, so that Send blocks,
	// and honours its context, while the producer is full (kc itself must never block: a record
	// that kc buffered is failed when the context it was produced with ends, which would turn
	// an interrupted replay's queued records into lost ones).
	slots  chan struct{}
	sent   atomic.Int64
	acked  atomic.Int64
	failed atomic.Int64
	mu     sync.Mutex
	closed bool
}

type producerConfig struct {
	compression   string
	batchBytes    int
	linger        time.Duration
	batchMessages int
	idempotent    bool
	clientID      string
	logger        *slog.Logger
	onAck         func(*Record)
	onError       func(*Record, error)
}

// Bounds on what a Producer holds in flight: records (a few batches of 1 MiB at replay's record
// sizes per partition) and bytes (large dead letters).
const (
	maxInflightRecords = 1 << 15
	maxInflightBytes   = 64 << 20
)

// produceTries is how often a batch is tried before the producer gives up on its records (they
// are then counted as failed): with franz-go's backoff, half a minute of a broker that is down
// makes a replay fail with ErrLost, to be resumed, rather than hang. (A delivery timeout cannot
// do this: franz-go measures it from the record timestamp, which is the historic event time.)
const produceTries = 10

// ProducerOption configures NewProducer.
type ProducerOption func(*producerConfig)

// WithCompression sets the batch compression: lz4 (default), zstd, snappy, gzip or none.
func WithCompression(name string) ProducerOption {
	return func(c *producerConfig) { c.compression = name }
}

// WithBatching sets the batch size in bytes and the time a batch may wait to fill. messages must
// be 0: franz-go closes batches on size and time only, and NewProducer returns ErrConfig for a
// message count.
func WithBatching(bytes int, linger time.Duration, messages int) ProducerOption {
	return func(c *producerConfig) { c.batchBytes, c.linger, c.batchMessages = bytes, linger, messages }
}

// WithIdempotence turns the idempotent producer on or off (default on): with it, a retried batch
// is never written twice.
func WithIdempotence(on bool) ProducerOption { return func(c *producerConfig) { c.idempotent = on } }

// WithClientID sets the Kafka client id (default "shopease-replay").
func WithClientID(id string) ProducerOption { return func(c *producerConfig) { c.clientID = id } }

// WithProducerLogger sets the logger for producer errors (default: discarded).
func WithProducerLogger(l *slog.Logger) ProducerOption {
	return func(c *producerConfig) { c.logger = l }
}

// WithCallbacks sets functions called once per record, from the producer's own goroutine, when
// the broker acknowledges it or when the producer gives up on it. They must not block.
func WithCallbacks(onAck func(*Record), onError func(*Record, error)) ProducerOption {
	return func(c *producerConfig) { c.onAck, c.onError = onAck, onError }
}

func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "none", "":
		return kgo.NoCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("%w: unknown compression %q (lz4, zstd, snappy, gzip, none)", ErrConfig, name)
}

// saramaConfig is the configuration of replay's metadata and offset client.
func saramaConfig(clientID string) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = clientID
	c.Version = KafkaVersion
	// Replay must never create a raw topic with the broker's default partition count.
	c.Metadata.AllowAutoTopicCreation = false
	// A resume reads partitions up to a known end offset: a fetch at the end must not idle for
	// the default 500 ms.
	c.Consumer.MaxWaitTime = 50 * time.Millisecond
	return c
}

// NewProducer connects to brokers.
func NewProducer(brokers []string, opts ...ProducerOption) (*Producer, error) {
	cfg := producerConfig{
		compression: DefaultCompression, batchBytes: 1 << 20, linger: 10 * time.Millisecond,
		idempotent: true, clientID: "shopease-replay", logger: slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&cfg)
	}
	codec, err := compressionCodec(cfg.compression)
	if err != nil {
		return nil, err
	}
	if cfg.batchMessages != 0 {
		return nil, fmt.Errorf("%w: batches close on size and linger only; a message count (%d) is not supported", ErrConfig, cfg.batchMessages)
	}
	kopts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ClientID(cfg.clientID),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerBatchMaxBytes(int32(cfg.batchBytes)),
		kgo.ProducerLinger(cfg.linger),
		kgo.RecordPartitioner(gokaPartitioner()),
		kgo.RecordRetries(produceTries),
		// Send's slots bound the records in flight; kc's own limits only back them up.
		kgo.MaxBufferedRecords(maxInflightRecords + 1),
		kgo.MaxBufferedBytes(maxInflightBytes),
	}
	if !cfg.idempotent {
		kopts = append(kopts, kgo.DisableIdempotentWrite())
	}
	kc, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("replay: producer for %s: %w", strings.Join(brokers, ","), err)
	}
	client, err := sarama.NewClient(brokers, saramaConfig(cfg.clientID))
	if err != nil {
		kc.Close()
		return nil, fmt.Errorf("replay: connect to %s: %w", strings.Join(brokers, ","), err)
	}
	return &Producer{client: client, kc: kc, cfg: cfg, slots: make(chan struct{}, maxInflightRecords)}, nil
}

// Client returns the producer's Kafka client, for metadata and offsets; do not close it.
func (p *Producer) Client() sarama.Client { return p.client }

// The header keys replay itself sets, as strings: franz-go's headers have string keys, and
// converting these two per record would cost two allocations.
var internedHeaderKeys = []string{HeaderSource, HeaderRow}

func headerKey(k []byte) string {
	for _, s := range internedHeaderKeys {
		if string(k) == s { // compared without allocating
			return s
		}
	}
	return string(k)
}

// Send queues r. It blocks while the producer holds its maximum of records in flight and returns
// ctx's error if ctx ends first (r is then not queued). r must not be changed or sent again until
// its callback has run.
func (p *Producer) Send(ctx context.Context, r *Record) error {
	select {
	case p.slots <- struct{}{}:
	default:
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("replay: send: %w", ctx.Err())
		}
	}
	kr := &r.kr
	*kr = kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Timestamp: r.Time}
	if len(r.Headers) <= len(r.kh) {
		kr.Headers = r.kh[:len(r.Headers)]
	} else {
		kr.Headers = make([]kgo.RecordHeader, len(r.Headers))
	}
	for i, h := range r.Headers {
		kr.Headers[i] = kgo.RecordHeader{Key: headerKey(h.Key), Value: h.Value}
	}
	p.sent.Add(1)
	// Produced without ctx: once queued, a record is delivered (or fails) whatever happens to
	// the caller's context.
	p.kc.Produce(context.Background(), kr, func(_ *kgo.Record, err error) { p.finish(r, err) })
	return nil
}

// finish runs on franz-go's promise goroutine, once per record.
func (p *Producer) finish(r *Record, err error) {
	if err == nil {
		p.acked.Add(1)
		if p.cfg.onAck != nil {
			p.cfg.onAck(r)
		}
	} else {
		p.failed.Add(1)
		p.cfg.logger.Error("record not acknowledged", "topic", r.Topic, "err", err)
		if p.cfg.onError != nil {
			p.cfg.onError(r, err)
		}
	}
	<-p.slots
}

// Flush waits until every record queued so far is acknowledged or failed, and its callback has
// run.
func (p *Producer) Flush() {
	// Without a deadline: every record ends after at most produceTries tries.
	p.kc.Flush(context.Background())
}

// Stats returns the counts so far.
func (p *Producer) Stats() ProducerStats {
	return ProducerStats{Sent: p.sent.Load(), Acked: p.acked.Load(), Failed: p.failed.Load()}
}

// Close flushes, stops the producer and closes the client. It returns ErrLost when any record
// failed over the producer's life.
func (p *Producer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.Flush()
	p.kc.Close()
	p.client.Close()
	if n := p.failed.Load(); n > 0 {
		return fmt.Errorf("%w: %d of %d records not acknowledged", ErrLost, n, p.sent.Load())
	}
	return nil
}

// gokaPartitioner puts a key in the partition goka puts it in: goka produces and looks keys up
// with sarama's hash partitioner over goka.DefaultHasher (32-bit FNV-1a), taking the hash as a
// signed int32 modulo the partition count and then its absolute value. A record in another
// partition would be invisible to the processor instance that owns its key.
func gokaPartitioner() kgo.Partitioner {
	return kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
		return func(r *kgo.Record, n int) int { return int(gokaPartition(r.Key, int32(n))) }
	})
}

// gokaPartition is sarama.NewCustomHashPartitioner(goka.DefaultHasher()) for key among n
// partitions, without its hasher's allocation and interface calls. An empty key is hashed too:
// sarama does so for every record replay sends, since a ByteEncoder is never a nil Encoder.
func gokaPartition(key []byte, n int32) int32 {
	const offset32, prime32 = 2166136261, 16777619
	h := uint32(offset32)
	for _, c := range key {
		h ^= uint32(c)
		h *= prime32
	}
	p := int32(h) % n
	if p < 0 {
		p = -p
	}
	return p
}
