//go:build linux

package pool_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/childproc/childproc/pool"
)

// Result messages in shapes the pool does not write itself (members in
// another order or repeated, whitespace, commas, braces and escaped
// quotes and backslashes inside strings) give the value encoding/json
// reads from them.
func TestResultShapes(t *testing.T) {
	p := newPool(t, pool.Script[string, any]("testdata/shapes.py"), &pool.Options{Size: 1, Child: quiet()})
	for _, shape := range []string{
		`{"pool":"result","id":{id},"value":"a,b\",c"}`,
		`{"pool":"result","id":{id},"value":{"a":[1,{"b":"}"}]},"x":1}`,
		`{"pool":"result","id":{id},"value":1,"value":2}`,
		`{"pool":"result","id":{id},"value":"\\","value":"q"}`,
		`{"pool":"result","id":{id}, "value" : [1, 2] }`,
		`{"value":[3],"pool":"result","id":{id}}`,
		`{"pool":"result","id":{id},"value":"\"","junk":"\\\""}`,
		`{"pool":"result","id":{id},"value":{"pool":"result","id":1,"value":2}}`,
		`{"pool":"result","id":{id},"value":"x\\"}`,
		`{"pool":"result","id":{id},"value":"\u2028\ud83d\ude00,"}`,
		`{"pool":"result","id":{id},"value":1e2}`,
		`{"pool":"result","id":{id},"value":[],"Value":5}`,
		`{"pool":"result","id":{id},"value":null}`,
		`{"pool":"result","id":{id}}`,
		`{"pool":"result","id":{id},"value":"a"` + "\r\t " + `}`,
		`{"pool":"result","id":{id},"value":[{"a":","},"]",{}],"value":[{}]}`,
		`{"pool":"result","id":{id},"value":"\\\\\"","b":{"c":[","]}}`,
		`{"pool":"result","id":{id},"value":{"a":"\\"},"b":2}`,
	} {
		got, err := p.Do(context.Background(), shape)
		var want struct{ Value json.RawMessage }
		if uerr := json.Unmarshal([]byte(strings.ReplaceAll(shape, "{id}", "1")), &want); uerr != nil {
			t.Fatalf("%s: %v", shape, uerr)
		}
		var wantValue any
		if len(want.Value) > 0 {
			json.Unmarshal(want.Value, &wantValue)
		}
		if err != nil || !reflect.DeepEqual(got, wantValue) {
			t.Errorf("%s: %#v, %v; want %#v", shape, got, err, wantValue)
		}
	}
}

// A result message whose id is not the task's id written as an integer
// (an exponent, a fraction, a leading zero, a sign, too many digits)
// fails the task with a *WorkerError, and the worker is replaced.
func TestResultBadIDs(t *testing.T) {
	p := newPool(t, pool.Script[string, any]("testdata/shapes.py"), &pool.Options{Size: 1, Child: quiet()})
	for _, shape := range []string{
		`{"pool":"result","id":{id}e0,"value":1}`,
		`{"pool":"result","id":{id}.0,"value":1}`,
		`{"pool":"result","id":0{id},"value":1}`,
		`{"pool":"result","id":-{id},"value":1}`,
		`{"pool":"result","id":{id}00000000000000000000000,"value":1}`,
		`{"pool":"result","id":"{id}","value":1}`,
	} {
		got, err := p.Do(context.Background(), shape)
		var werr *pool.WorkerError
		if !errors.As(err, &werr) {
			t.Errorf("%s: %#v, %v; want a *WorkerError", shape, got, err)
		}
	}
	if got, err := p.Do(context.Background(), `{"pool":"result","id":{id},"value":7}`); err != nil || got != 7.0 {
		t.Fatalf("after them: %v, %v", got, err)
	}
}
