package fence

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lovoo/goka"
)

// Header is the record header that carries a record's origin, "topic/partition/offset".
const Header = "shopease-origin"

// ErrBadOrigin is returned when an origin header does not parse.
var ErrBadOrigin = errors.New("fence: bad origin header")

// Origin is where a record entered the pipeline: a raw topic partition and offset.
type Origin struct {
	Topic     string
	Partition int32
	Offset    int64
}

// String formats o as "topic/partition/offset", the header value and dead-letter source form.
func (o Origin) String() string { return string(o.Append(nil)) }

// Append appends o's String form to dst. Every emitted record carries it, so Headers builds it
// in one allocation instead of a string and its copy.
func (o Origin) Append(dst []byte) []byte {
	dst = append(dst, o.Topic...)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, int64(o.Partition), 10)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, o.Offset, 10)
}

// source is the fence key of o: its topic and partition.
func (o Origin) source() string { return o.Topic + "/" + strconv.Itoa(int(o.Partition)) }

// ParseOrigin parses the header form.
func ParseOrigin(s string) (Origin, error) {
	i := strings.LastIndexByte(s, '/')
	if i <= 0 {
		return Origin{}, fmt.Errorf("%w: %q", ErrBadOrigin, s)
	}
	j := strings.LastIndexByte(s[:i], '/')
	if j <= 0 {
		return Origin{}, fmt.Errorf("%w: %q", ErrBadOrigin, s)
	}
	p, err1 := strconv.ParseInt(s[j+1:i], 10, 32)
	off, err2 := strconv.ParseInt(s[i+1:], 10, 64)
	if err1 != nil || err2 != nil || p < 0 || off < 0 {
		return Origin{}, fmt.Errorf("%w: %q", ErrBadOrigin, s)
	}
	return Origin{Topic: s[:j], Partition: int32(p), Offset: off}, nil
}

// Of returns the origin of the message ctx is processing: the origin header when an upstream
// processor set one, else the message's own topic, partition and offset (a raw input).
func Of(ctx goka.Context) (Origin, error) {
	if h := ctx.Headers(); h != nil {
		if v, ok := h[Header]; ok {
			return ParseOrigin(string(v))
		}
	}
	return Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}, nil
}

// Headers returns the headers that stamp an emitted record with o.
func Headers(o Origin) goka.Headers {
	return goka.Headers{Header: o.Append(make([]byte, 0, len(o.Topic)+2+10+20))} // room for the longest numbers
}

// Emit emits value to topic with key, stamped with origin o.
func Emit(ctx goka.Context, topic goka.Stream, key string, value interface{}, o Origin) {
	ctx.Emit(topic, key, value, goka.WithCtxEmitHeaders(Headers(o)))
}

// Vector is a per-key fence: for each origin source (topic/partition) the highest offset applied.
// It is small (one entry per raw partition that ever fed the key) and kept sorted for a stable
// encoding.
type Vector []Mark

// Mark is one entry of a Vector.
type Mark struct {
	Source string `json:"s"`
	Offset int64  `json:"o"`
}

// Admit reports whether a record of origin o is new for this key, and if so records it. A false
// result means the record was applied before (a redelivery) and must be skipped.
func (v *Vector) Admit(o Origin) bool {
	src := o.source()
	vs := *v
	i := sort.Search(len(vs), func(i int) bool { return vs[i].Source >= src })
	if i < len(vs) && vs[i].Source == src {
		if o.Offset <= vs[i].Offset {
			return false
		}
		vs[i].Offset = o.Offset
		return true
	}
	vs = append(vs, Mark{})
	copy(vs[i+1:], vs[i:])
	vs[i] = Mark{Source: src, Offset: o.Offset}
	*v = vs
	return true
}

// Applied reports whether o is at or below the fence, without changing it.
func (v Vector) Applied(o Origin) bool {
	src := o.source()
	i := sort.Search(len(v), func(i int) bool { return v[i].Source >= src })
	return i < len(v) && v[i].Source == src && o.Offset <= v[i].Offset
}

// Keep writes v, the key's current value, when a record changed nothing because it was applied
// before (a fence or claim let it pass no further). goka writes the local table inside the callback
// and the changelog record only later, so after a SIGKILL the local table can hold a write whose
// changelog record never reached Kafka; the record that made it is delivered again (its offset was
// not committed) and finds its work done. Were nothing written then, the changelog — what a
// restore, an instance taking the partition over and every table reader see — would miss that
// write for good. Writing the value again puts it there (a changelog is last-write-wins); it costs
// one write per redelivered record.
func Keep(ctx goka.Context, v any) { ctx.SetValue(v) }
