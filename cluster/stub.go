package cluster

import (
	"context"
	"errors"
	"iter"

	"github.com/nats-io/nats.go"
)

var errTODO = errors.New("cluster: not implemented yet")

type submitter struct{}
type task struct{}
type batch struct{}

func newSubmitter(nc *nats.Conn, name string, opts *Options) (*submitter, error) {
	return nil, errTODO
}
func (s *submitter) submit(ctx context.Context, value []byte) (*task, error) { return nil, errTODO }
func (s *submitter) await(ctx context.Context, t *task) ([]byte, error)      { return nil, errTODO }
func (s *submitter) own() *batch                                             { return nil }
func (s *submitter) durable(ctx context.Context, name string) (*batch, error) {
	return nil, errTODO
}
func (s *submitter) batchState(ctx context.Context, name string) (BatchState, error) {
	return BatchState{}, errTODO
}
func (s *submitter) deleteBatch(ctx context.Context, name string) error { return errTODO }
func (s *submitter) shutdown(ctx context.Context) error                 { return errTODO }
func (s *submitter) close() error                                       { return errTODO }
func (s *submitter) statsNow() Stats                                    { return Stats{} }

func mapResults[Resp any](ctx context.Context, b *batch, reqs iter.Seq2[[]byte, error]) iter.Seq2[Resp, error] {
	return func(yield func(Resp, error) bool) {}
}

func serve(ctx context.Context, nc *nats.Conn, name string, o *Options, h handler) error {
	return errTODO
}

func inProcess[Req, Resp any](fn func(ctx context.Context, req Req) (Resp, error)) func(ctx context.Context, req Req) (Resp, error) {
	return fn
}
