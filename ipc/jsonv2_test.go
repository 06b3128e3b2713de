//go:build goexperiment.jsonv2

package ipc

import (
	"encoding/json/jsontext"
	"testing"
)

// encodesTo has only MarshalJSONTo, which encoding/json, built with
// GOEXPERIMENT=jsonv2, calls.
type encodesTo struct{ X int }

func (encodesTo) MarshalJSONTo(e *jsontext.Encoder) error { return e.WriteToken(jsontext.String("to")) }

type encodesToPtr struct{ X int }

func (*encodesToPtr) MarshalJSONTo(e *jsontext.Encoder) error {
	return e.WriteToken(jsontext.String("to"))
}

// TestAppendFastAgreesWithJSONv2 checks appendFast against encoding/json
// for the types only encoding/json/v2 lets encode themselves.
//
//	GOEXPERIMENT=jsonv2 go test -run=TestAppendFast ./ipc/
func TestAppendFastAgreesWithJSONv2(t *testing.T) {
	for _, v := range []any{
		encodesTo{1}, &encodesTo{1}, []encodesTo{{1}}, map[string]encodesTo{"a": {}},
		encodesToPtr{1}, &encodesToPtr{1}, []encodesToPtr{{1}}, map[string]any{"a": &encodesToPtr{}},
	} {
		sameBytes(t, v)
	}
}
