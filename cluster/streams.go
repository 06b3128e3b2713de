package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// dedupWindow is the streams' publish deduplication window: long enough
// for a publish repeated after a reconnect, short enough that the
// server's memory of ids stays small at tens of thousands of tasks a
// second.
const dedupWindow = time.Minute

// A queue is a pool's two streams, seen from one process.
type queue struct {
	name    string
	js      jetstream.JetStream
	tasks   jetstream.Stream
	results jetstream.Stream
}

// The subjects and names of pool n (see the package doc).
func taskSubject(n, batch string, i uint64) string { return subject(n, "task", batch, i) }
func resultSubject(n, batch string, i uint64) string {
	return subject(n, "result", batch, i)
}
func subject(n, kind, batch string, i uint64) string {
	return "childproc." + n + "." + kind + "." + batch + "." + strconv.FormatUint(i, 10)
}
func batchSubjects(n, kind, batch string) string {
	return "childproc." + n + "." + kind + "." + batch + ".>"
}
func tasksStream(n string) string   { return "CHILDPROC_" + n + "_TASKS" }
func resultsStream(n string) string { return "CHILDPROC_" + n + "_RESULTS" }
func consumerName(n string) string  { return "CHILDPROC_" + n }

// parseSubject returns the batch and index of a task or result subject
// of pool n of the given kind.
func parseSubject(n, kind, subj string) (batch string, i uint64, ok bool) {
	rest, ok := strings.CutPrefix(subj, "childproc."+n+"."+kind+".")
	if !ok {
		return "", 0, false
	}
	batch, index, ok := strings.Cut(rest, ".")
	if !ok || !validName.MatchString(batch) {
		return "", 0, false
	}
	i, err := strconv.ParseUint(index, 10, 63)
	return batch, i, err == nil
}

// openQueue returns pool name's streams on nc's server, creating them
// with o's settings if they are missing.
func openQueue(ctx context.Context, nc *nats.Conn, name string, o *Options, jsOpts ...jetstream.JetStreamOpt) (*queue, error) {
	if err := checkName("pool name", name); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc, jsOpts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	q := &queue{name: name, js: js}
	q.tasks, err = ensureStream(ctx, js, jetstream.StreamConfig{
		Name:       tasksStream(name),
		Subjects:   []string{"childproc." + name + ".task.>"},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    o.Storage,
		Replicas:   o.Replicas,
		Duplicates: dedupWindow,
	})
	if err != nil {
		return nil, err
	}
	q.results, err = ensureStream(ctx, js, jetstream.StreamConfig{
		Name: resultsStream(name),
		Subjects: []string{
			"childproc." + name + ".result.>",
			"childproc." + name + ".failed.>",
			"childproc." + name + ".dead.>",
		},
		Retention:         jetstream.LimitsPolicy,
		MaxMsgsPerSubject: 1,
		MaxAge:            o.ResultTTL,
		Storage:           o.Storage,
		Replicas:          o.Replicas,
		Duplicates:        dedupWindow,
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// ensureStream creates the stream of cfg, or returns the one of that
// name that exists already (with the settings it has).
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		s, err = js.Stream(ctx, cfg.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: stream %s: %w", cfg.Name, err)
	}
	return s, nil
}

// consumer returns the pool's durable pull consumer, shared by all its
// workers, creating it with o's settings if it is missing.
func (q *queue) consumer(ctx context.Context, o *Options) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       consumerName(q.name),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		MaxDeliver:    -1, // the workers count deliveries: see Options.MaxDeliver
		MaxAckPending: o.MaxAckPending,
		FilterSubject: "childproc." + q.name + ".task.>",
		Replicas:      o.Replicas,
	}
	c, err := q.js.CreateConsumer(ctx, tasksStream(q.name), cfg)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		c, err = q.js.Consumer(ctx, tasksStream(q.name), cfg.Durable)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: consumer %s: %w", cfg.Durable, err)
	}
	return c, nil
}

// indexes returns the indexes of the subjects of kind stored for batch
// in stream s.
func (q *queue) indexes(ctx context.Context, s jetstream.Stream, kind, batch string) (map[uint64]bool, error) {
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(batchSubjects(q.name, kind, batch)))
	if err != nil {
		return nil, fmt.Errorf("cluster: reading batch %s: %w", batch, err)
	}
	set := make(map[uint64]bool, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		if _, i, ok := parseSubject(q.name, kind, subj); ok {
			set[i] = true
		}
	}
	return set, nil
}

// purgeBatch removes what stream s holds of batch under kind.
func (q *queue) purgeBatch(ctx context.Context, s jetstream.Stream, kind, batch string) error {
	if err := s.Purge(ctx, jetstream.WithPurgeSubject(batchSubjects(q.name, kind, batch))); err != nil {
		return fmt.Errorf("cluster: purging batch %s: %w", batch, err)
	}
	return nil
}
