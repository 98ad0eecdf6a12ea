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
)

// KafkaVersion is the protocol version replay's sarama clients speak. It is set explicitly
// because sarama's default is an old version without record headers' full support and without
// the produce API features (idempotence, zstd) that replay relies on.
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
}

// ProducerStats counts a Producer's records.
type ProducerStats struct {
	Sent   int64 // handed to Send
	Acked  int64 // acknowledged by the broker (all in-sync replicas)
	Failed int64 // given up on: lost unless the caller sends them again
}

// Producer sends keyed, timestamped records through a batching, compressing sarama
// AsyncProducer and counts acknowledgements, so its user knows exactly what reached the broker.
// Records with the same key go to the same partition (sarama's hash partitioner, the same one goka
// uses). It is safe for concurrent use.
type Producer struct {
	client   sarama.Client
	async    sarama.AsyncProducer
	cfg      producerConfig
	sent     atomic.Int64
	acked    atomic.Int64
	failed   atomic.Int64
	mu       sync.Mutex
	idle     *sync.Cond // signalled when inflight drops to 0
	inflight int64
	done     sync.WaitGroup
	closed   bool
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

// ProducerOption configures NewProducer.
type ProducerOption func(*producerConfig)

// WithCompression sets the batch compression: lz4 (default), zstd, snappy, gzip or none.
func WithCompression(name string) ProducerOption {
	return func(c *producerConfig) { c.compression = name }
}

// WithBatching sets the batch size in bytes, the time a batch may wait to fill, and a message
// count that flushes a batch (0: no count limit).
func WithBatching(bytes int, linger time.Duration, messages int) ProducerOption {
	return func(c *producerConfig) { c.batchBytes, c.linger, c.batchMessages = bytes, linger, messages }
}

// WithIdempotence turns the idempotent producer on or off (default on): with it, a retried batch
// is never written twice, at the cost of one request in flight per broker.
func WithIdempotence(on bool) ProducerOption { return func(c *producerConfig) { c.idempotent = on } }

// WithClientID sets the Kafka client id (default "shopease-replay").
func WithClientID(id string) ProducerOption { return func(c *producerConfig) { c.clientID = id } }

// WithProducerLogger sets the logger for producer errors (default: discarded).
func WithProducerLogger(l *slog.Logger) ProducerOption {
	return func(c *producerConfig) { c.logger = l }
}

// WithCallbacks sets functions called once per record, from the producer's own goroutines, when
// the broker acknowledges it or when the producer gives up on it. They must not block.
func WithCallbacks(onAck func(*Record), onError func(*Record, error)) ProducerOption {
	return func(c *producerConfig) { c.onAck, c.onError = onAck, onError }
}

func compressionCodec(name string) (sarama.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "lz4":
		return sarama.CompressionLZ4, nil
	case "zstd":
		return sarama.CompressionZSTD, nil
	case "snappy":
		return sarama.CompressionSnappy, nil
	case "gzip":
		return sarama.CompressionGZIP, nil
	case "none", "":
		return sarama.CompressionNone, nil
	}
	return 0, fmt.Errorf("%w: unknown compression %q (lz4, zstd, snappy, gzip, none)", ErrConfig, name)
}

// saramaConfig is the client configuration shared by the producer and replay's offset reads.
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
	sc := saramaConfig(cfg.clientID)
	sc.ChannelBufferSize = 4096
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	sc.Producer.Compression = codec
	sc.Producer.Flush.Bytes = cfg.batchBytes
	sc.Producer.Flush.Frequency = cfg.linger
	sc.Producer.Flush.Messages = cfg.batchMessages
	sc.Producer.Partitioner = sarama.NewHashPartitioner
	if cfg.idempotent {
		sc.Producer.Idempotent = true
		sc.Net.MaxOpenRequests = 1
	}
	client, err := sarama.NewClient(brokers, sc)
	if err != nil {
		return nil, fmt.Errorf("replay: connect to %s: %w", strings.Join(brokers, ","), err)
	}
	async, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("replay: start producer: %w", err)
	}
	p := &Producer{client: client, async: async, cfg: cfg}
	p.idle = sync.NewCond(&p.mu)
	p.done.Add(2)
	go p.successes()
	go p.errors()
	return p, nil
}

// Client returns the producer's Kafka client, for metadata and offsets; do not close it.
func (p *Producer) Client() sarama.Client { return p.client }

// Send queues r. It blocks while the producer's buffers are full and returns ctx's error if ctx
// ends first (r is then not queued).
func (p *Producer) Send(ctx context.Context, r *Record) error {
	msg := &sarama.ProducerMessage{
		Topic:     r.Topic,
		Key:       sarama.ByteEncoder(r.Key),
		Value:     sarama.ByteEncoder(r.Value),
		Headers:   r.Headers,
		Timestamp: r.Time,
		Metadata:  r,
	}
	p.mu.Lock()
	p.inflight++
	p.mu.Unlock()
	select {
	case p.async.Input() <- msg:
		p.sent.Add(1)
		return nil
	case <-ctx.Done():
		p.settle()
		return fmt.Errorf("replay: send: %w", ctx.Err())
	}
}

func (p *Producer) settle() {
	p.mu.Lock()
	p.inflight--
	if p.inflight == 0 {
		p.idle.Broadcast()
	}
	p.mu.Unlock()
}

func (p *Producer) successes() {
	defer p.done.Done()
	for msg := range p.async.Successes() {
		r := msg.Metadata.(*Record)
		p.acked.Add(1)
		if p.cfg.onAck != nil {
			p.cfg.onAck(r)
		}
		p.settle()
	}
}

func (p *Producer) errors() {
	defer p.done.Done()
	for perr := range p.async.Errors() {
		r := perr.Msg.Metadata.(*Record)
		p.failed.Add(1)
		p.cfg.logger.Error("record not acknowledged", "topic", r.Topic, "err", perr.Err)
		if p.cfg.onError != nil {
			p.cfg.onError(r, perr.Err)
		}
		p.settle()
	}
}

// Flush waits until every record queued so far is acknowledged or failed.
func (p *Producer) Flush() {
	p.mu.Lock()
	for p.inflight > 0 {
		p.idle.Wait()
	}
	p.mu.Unlock()
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
	p.async.AsyncClose()
	p.done.Wait()
	p.client.Close()
	if n := p.failed.Load(); n > 0 {
		return fmt.Errorf("%w: %d of %d records not acknowledged", ErrLost, n, p.sent.Load())
	}
	return nil
}
