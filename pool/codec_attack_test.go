//go:build linux

package pool_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
	"github.com/childproc/childproc/pool"
)

// marshalingJSON is a "json" codec a program may register in place of
// ipc's (RegisterCodec replaces a codec of the same name): one that
// writes every value with encoding/json, reading as ipc's does.
type marshalingJSON struct{ ipc.Codec }

func (marshalingJSON) AppendFrame(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(append(dst, b...), '\n'), nil
}

// A pool whose "json" codec is the program's own still speaks the pool
// protocol: the messages it builds itself reach the worker as the JSON
// texts they are, as they did when they went out as json.RawMessage.
func TestPoolOverARegisteredJSONCodec(t *testing.T) {
	ipc.RegisterCodec(marshalingJSON{ipc.JSON})
	t.Cleanup(func() { ipc.RegisterCodec(ipc.JSON) })
	p := newPool(t, adder, &pool.Options{Size: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if sum, err := p.Do(ctx, addReq{2, 3}); err != nil || sum != 5 {
		t.Fatalf("Do(2+3) = %d, %v", sum, err)
	}
}
