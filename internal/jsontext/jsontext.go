// Package jsontext marks JSON texts that childproc's own code built, so
// that an ipc channel sends them without checking them again.
package jsontext

// A Text is one JSON value with no whitespace between its tokens, built
// by childproc itself (the pool's task and result messages, say): a
// JSON channel's Send given a *Text writes it as it is, where a
// json.RawMessage is validated first. Only code that builds its texts
// from valid JSON may use it; a peer reading a Text that is not valid
// JSON ends its channel.
type Text []byte
