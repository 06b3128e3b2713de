package fdio

import "errors"

// ErrNotReady is a read without waiting that found nothing to read yet.
var ErrNotReady = errors.New("nothing to read yet")
