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

// MarshalJSON returns t's text, so that a codec other than ipc's that
// writes values with encoding/json (one a program registered as "json",
// say) writes the value t holds, not its bytes in base64.
func (t *Text) MarshalJSON() ([]byte, error) { return *t, nil }
