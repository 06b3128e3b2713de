package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Connect connects to the NATS server or cluster at url ("nats://host:4222",
// or several addresses separated by commas) with nats.go's options
// (nats.UserCredentials, nats.Token, nats.RootCAs, nats.ClientCert, ...).
// The connection reconnects for ever, every quarter of a second, unless
// opts say otherwise; a server that cannot be reached at first is an
// error.
func Connect(url string, opts ...nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect(url, append(reconnecting(), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connecting to %s: %w", url, err)
	}
	return nc, nil
}

// reconnecting is the options that make a connection survive a server
// restart.
func reconnecting() []nats.Option {
	return []nats.Option{
		nats.Name("childproc"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, 100*time.Millisecond),
	}
}

// ConnectLocal connects to the embedded server that StartServer runs
// with dir (its Dir; "" is DefaultDir()), from any process of the same
// user: it reads the server's address and token from the files "url"
// and "token" there. It reads "url" again at each reconnection, so that
// the connection follows the directory's server when another one
// replaces it (on another port). It returns an error wrapping
// ErrNoServer when dir has no running server's address.
func ConnectLocal(dir string, opts ...nats.Option) (*nats.Conn, error) {
	dir, err := dirOrDefault(dir)
	if err != nil {
		return nil, err
	}
	url, err := localURL(dir)
	if err != nil {
		return nil, err
	}
	token, err := readSecret(filepath.Join(dir, tokenFile))
	if err != nil {
		return nil, err
	}
	local := []nats.Option{nats.Token(token), nats.SetCustomDialer(localDialer{dir})}
	return Connect(url, append(local, opts...)...)
}

// localURL returns the address of dir's running server.
func localURL(dir string) (string, error) {
	url, err := readSecret(filepath.Join(dir, urlFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w in %s", ErrNoServer, dir)
	}
	return url, err
}

// A localDialer dials the server whose address the "url" file of dir
// holds at the moment, whatever address the connection was made with.
type localDialer struct{ dir string }

func (d localDialer) Dial(network, address string) (net.Conn, error) {
	if url, err := localURL(d.dir); err == nil {
		address = strings.TrimPrefix(url, "nats://")
	}
	return (&net.Dialer{Timeout: 2 * time.Second}).Dial(network, address)
}

// readSecret reads one of the embedded server's files, which must be
// readable by its owner only.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("cluster: %s is readable by others (mode %v): refusing it", path, fi.Mode().Perm())
	}
	b := make([]byte, 4096)
	n, err := f.Read(b)
	if err != nil {
		return "", fmt.Errorf("cluster: reading %s: %w", path, err)
	}
	return strings.TrimSpace(string(b[:n])), nil
}
