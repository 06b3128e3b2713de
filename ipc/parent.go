package ipc

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// The environment through which Node (and childproc) hand a child its
// channel.
const (
	EnvChannelFD     = "NODE_CHANNEL_FD"
	EnvSerialization = "NODE_CHANNEL_SERIALIZATION_MODE"
)

var parent struct {
	once sync.Once
	ch   *Channel
	err  error
}

// Parent returns the channel to the process that started this one with
// an IPC channel: a childproc parent (Fork, or an IPC stdio entry) or a
// Node parent (fork, or an 'ipc' stdio entry). It returns ErrNoChannel
// when there is none. As Node does, it removes NODE_CHANNEL_FD and
// NODE_CHANNEL_SERIALIZATION_MODE from the environment, so that this
// process's own children do not see them. Every call returns the same
// Channel.
func Parent() (*Channel, error) { return ParentWith(nil) }

// ParentWith is Parent with the channel's Options (MaxMessageSize,
// QueueLen, QueueBytes, SpinWait); the serialization is the one the
// parent named, whatever opts.Serialization says. Only the first call of
// Parent or ParentWith opens the channel, so only its options count.
func ParentWith(opts *Options) (*Channel, error) {
	parent.once.Do(func() { parent.ch, parent.err = openParent(opts) })
	return parent.ch, parent.err
}

func openParent(opts *Options) (*Channel, error) {
	s, ok := os.LookupEnv(EnvChannelFD)
	if !ok {
		return nil, ErrNoChannel
	}
	mode := os.Getenv(EnvSerialization)
	os.Unsetenv(EnvChannelFD)
	os.Unsetenv(EnvSerialization)
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 0 {
		return nil, errors.New("ipc: " + EnvChannelFD + " is not a file descriptor: " + strconv.Quote(s))
	}
	if _, ok := LookupCodec(mode); !ok {
		return nil, fmt.Errorf("%w: %s=%q has no codec (registered: %s)", ErrUnsupported, EnvSerialization, mode, strings.Join(Codecs(), ", "))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Serialization = mode
	ch, err := NewFile(os.NewFile(uintptr(fd), "ipc"), &o)
	if err != nil {
		return nil, errors.New("ipc: " + EnvChannelFD + "=" + s + " is not a usable channel: " + err.Error())
	}
	return ch, nil
}
