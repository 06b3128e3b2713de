//go:build !goexperiment.jsonv2

package ipc

import "reflect"

// selfEncoders are the interfaces through which encoding/json lets a
// type encode itself.
var selfEncoders = []reflect.Type{marshalerType, textType}

// selfDecoders are the interfaces through which encoding/json lets a
// type decode itself.
var selfDecoders = []reflect.Type{jsonUnmarshalerType, textUnmarshalerType}
