//go:build goexperiment.jsonv2

package ipc

import (
	"encoding"
	jsonv2 "encoding/json/v2"
	"reflect"
)

// selfEncoders are the interfaces through which encoding/json lets a
// type encode itself. With GOEXPERIMENT=jsonv2, encoding/json is
// encoding/json/v2 in its version 1 mode, which also calls MarshalJSONTo
// and AppendText.
var selfEncoders = []reflect.Type{
	marshalerType, textType,
	reflect.TypeFor[jsonv2.MarshalerTo](), reflect.TypeFor[encoding.TextAppender](),
}

// selfDecoders are the interfaces through which encoding/json lets a
// type decode itself; with GOEXPERIMENT=jsonv2 also UnmarshalJSONFrom.
var selfDecoders = []reflect.Type{
	jsonUnmarshalerType, textUnmarshalerType, reflect.TypeFor[jsonv2.UnmarshalerFrom](),
}
