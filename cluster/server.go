package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// The files of an embedded server's directory.
const (
	tokenFile = "token"     // the clients' token, mode 0600
	urlFile   = "url"       // the running server's address, mode 0600
	storeDir  = "jetstream" // JetStream's file store
)

// ServerOptions configures an embedded server. The zero value, like a
// nil *ServerOptions, listens on 127.0.0.1 at a random port, with its
// store in DefaultDir().
type ServerOptions struct {
	// Dir holds the token, the address and JetStream's file store; ""
	// means DefaultDir(). It is created if missing, and made mode 0700.
	Dir string
	// Host is the address to listen on; "" means 127.0.0.1. Another
	// address lets other machines in (those that have the token).
	Host string
	// Port is the port to listen on; 0 means a random free port.
	Port int
}

// Server is a NATS server with JetStream running in this process.
type Server struct {
	ns    *server.Server
	dir   string
	token string
	url   string
}

// DefaultDir returns the embedded server's default directory,
// os.UserCacheDir()/childproc/cluster.
func DefaultDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	return filepath.Join(cache, "childproc", "cluster"), nil
}

func dirOrDefault(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return DefaultDir()
}

// StartServer starts a NATS server with JetStream in this process and
// returns once it accepts connections. Clients must give the token kept
// in the file "token" of the directory (generated the first time); the
// file "url" there tells ConnectLocal where the server listens, until
// Close.
func StartServer(opts *ServerOptions) (*Server, error) {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if o.Port < 0 || o.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrBadOptions, o.Port)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	dir, err := dirOrDefault(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	token, err := loadToken(filepath.Join(dir, tokenFile))
	if err != nil {
		return nil, err
	}
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{
		ServerName:    "childproc",
		Host:          o.Host,
		Port:          port,
		Authorization: token,
		JetStream:     true,
		StoreDir:      filepath.Join(dir, storeDir),
		NoSigs:        true,
		NoLog:         true,
		MaxPayload:    8 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: starting the embedded server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("cluster: the embedded server in %s did not start within 30s", dir)
	}
	s := &Server{ns: ns, dir: dir, token: token, url: clientURL(ns)}
	if err := writeSecret(filepath.Join(dir, urlFile), s.url); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// clientURL returns the nats:// address that ns listens on.
func clientURL(ns *server.Server) string {
	addr := ns.Addr().(*net.TCPAddr)
	return "nats://" + net.JoinHostPort(addr.IP.String(), strconv.Itoa(addr.Port))
}

// URL returns the server's address, "nats://127.0.0.1:PORT".
func (s *Server) URL() string { return s.url }

// Dir returns the server's directory.
func (s *Server) Dir() string { return s.dir }

// Token returns the token that clients must give (nats.Token).
func (s *Server) Token() string { return s.token }

// Connect connects to the server with its token, as Connect does, with
// opts added. The connection does not go through the network: it is a
// pipe in memory to the server in this process (nats.InProcessServer),
// with the same authentication.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	return Connect(s.url, append([]nats.Option{nats.Token(s.token), nats.InProcessServer(s.ns)}, opts...)...)
}

// Close stops the server (clients lose their connection and try to
// reconnect) and removes its address from the directory. The store and
// the token stay, for the next StartServer with the same directory.
func (s *Server) Close() error {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	path := filepath.Join(s.dir, urlFile)
	if url, err := os.ReadFile(path); err == nil && string(url) == s.url {
		os.Remove(path)
	}
	return nil
}

// loadToken returns the token kept in path, generating it if missing.
func loadToken(path string) (string, error) {
	token, err := readSecret(path)
	if err == nil && token != "" {
		return token, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 24)
	rand.Read(b)
	token = hex.EncodeToString(b)
	if err := writeSecret(path, token); err != nil {
		return "", err
	}
	return token, nil
}

// writeSecret replaces path by a file of mode 0600 holding s, through a
// rename so that no reader sees it half written.
func writeSecret(path, s string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(s); err != nil {
		tmp.Close()
		return fmt.Errorf("cluster: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cluster: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return nil
}
