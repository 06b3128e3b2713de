package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/spf13/pflag"

	"github.com/childproc/childproc/cluster"
)

// localCluster is the --cluster value that names this user's embedded
// server, and the value of a --cluster given without one.
const localCluster = "local"

// defaultQueue is the cluster pool of childproc's jobs unless --queue
// names another.
const defaultQueue = "parallel"

// clusterOptions are the flags that say which cluster to join, shared
// by childproc parallel and childproc worker.
type clusterOptions struct {
	url                    string // "" when not given; localCluster for the embedded server
	queue                  string
	creds                  string
	tlsCA, tlsCert, tlsKey string
}

// define declares the cluster flags on fs.
func (c *clusterOptions) define(fs *pflag.FlagSet, what string) {
	fs.StringVar(&c.url, "cluster", "", what+" through the NATS server at `URL` (nats://[TOKEN@]HOST:PORT, several separated by commas); without a URL, or with \"local\", this user's embedded server")
	fs.Lookup("cluster").NoOptDefVal = localCluster
	fs.StringVar(&c.queue, "queue", defaultQueue, "the cluster's queue of jobs, `NAME` (letters, digits, - and _); submitters and workers of one queue must agree")
	fs.StringVar(&c.creds, "creds", "", "NATS credentials `FILE` (a user's JWT and nkey seed)")
	fs.StringVar(&c.tlsCA, "tls-ca", "", "verify the NATS server's certificate against the CAs in `FILE`")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "client certificate `FILE` for NATS (with --tls-key)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "client key `FILE` for NATS (with --tls-cert)")
}

// takeURL reads a --cluster given without "=": pflag gives it the value
// local and leaves the next word among the arguments, so a next word
// that is a URL (holds "://") or local is taken as its value, and the
// flags after it are parsed. It returns the arguments that remain.
func (c *clusterOptions) takeURL(fs *pflag.FlagSet) ([]string, error) {
	rest := fs.Args()
	if c.url != localCluster || len(rest) == 0 || !strings.Contains(rest[0], "://") && rest[0] != localCluster {
		return rest, nil
	}
	c.url = rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

// check refuses flags that do not go together.
func (c *clusterOptions) check() error {
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key: give both or neither")
	}
	if c.url == localCluster && (c.creds != "" || c.tlsCA != "" || c.tlsCert != "") {
		return errors.New("--creds and --tls-*: for a --cluster URL, not this user's embedded server")
	}
	return nil
}

// natsOptions are the connection options that the flags ask for.
func (c *clusterOptions) natsOptions() []nats.Option {
	var opts []nats.Option
	if c.creds != "" {
		opts = append(opts, nats.UserCredentials(c.creds))
	}
	if c.tlsCA != "" {
		opts = append(opts, nats.RootCAs(c.tlsCA))
	}
	if c.tlsCert != "" {
		opts = append(opts, nats.ClientCert(c.tlsCert, c.tlsKey))
	}
	return opts
}

// connect connects to the cluster at the URL, or to this user's
// embedded server (ConnectLocal) for local.
func (c *clusterOptions) connect() (*nats.Conn, error) {
	where := "the cluster at " + redact(c.url)
	var nc *nats.Conn
	var err error
	if c.url == localCluster {
		where = "this user's embedded server"
		nc, err = cluster.ConnectLocal("") // follows the next submitter's server by itself
	} else if nc, err = cluster.Connect(c.url, c.natsOptions()...); err != nil {
		err = errors.Unwrap(err) // the cluster package's wording names the URL with its token
	}
	switch {
	case err == nil:
		return nc, nil
	case refused(err):
		return nil, fmt.Errorf("%s refused this client: wrong token or credentials (%w)", where, err)
	}
	return nil, fmt.Errorf("cannot join %s: %w", where, err)
}

// refused reports whether err is the server's refusal of the client's
// token or credentials, which nats.go returns as the server's words
// rather than as nats.ErrAuthorization.
func refused(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(err.Error()), "authorization violation")
}

// redact hides the token or password of each address of a --cluster
// value.
func redact(v string) string {
	addrs := strings.Split(v, ",")
	for i, a := range addrs {
		u, err := url.Parse(a)
		if err != nil || u.User == nil {
			continue
		}
		u.User = url.User("REDACTED")
		addrs[i] = u.String()
	}
	return strings.Join(addrs, ",")
}
