// Package dockerapi is a small client for the Docker Engine HTTP API.
//
// It speaks only the handful of endpoints the project's own Docker provider plugin needs
// (networks, volumes, containers, image inspect) and depends on nothing outside the Go
// standard library. Supported daemon addresses:
//
//	unix:///path/to/docker.sock
//	tcp://host:port        (plain HTTP, or HTTPS when TLS material is given)
//	http://host:port, https://host:port
//
// TLS material is given as PEM strings (CA certificate, client certificate, client key),
// the same shape as the provider's caMaterial/certMaterial/keyMaterial settings.
package dockerapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultHost is the daemon address used when none is configured.
const DefaultHost = "unix:///var/run/docker.sock"

// MaxAPIVersion is the newest Engine API version this client is written against. The client
// asks the daemon for its version once and uses the older of the two. 1.41 is Docker 20.10,
// the first version with cgroupns mode; every newer daemon still accepts it.
const MaxAPIVersion = "1.41"

// Config says how to reach a daemon.
type Config struct {
	// Host is the daemon address (see the package comment). Empty means DefaultHost.
	Host string
	// CAPEM, CertPEM and KeyPEM are PEM-encoded TLS material. Giving any of them turns on TLS
	// for tcp:// hosts. CertPEM and KeyPEM go together. Without CAPEM the system roots verify
	// the daemon's certificate.
	CAPEM, CertPEM, KeyPEM string
	// APIVersion pins the Engine API version (e.g. "1.41"); empty means negotiate.
	APIVersion string
	// Timeout bounds each request that is not expected to block (default 2 minutes).
	Timeout time.Duration
	// UserAgent is sent with every request (default "consul-swarm-dockerapi").
	UserAgent string
}

// Client talks to one Docker daemon. It is safe for concurrent use.
type Client struct {
	http      *http.Client
	base      string // scheme://host, without a trailing slash
	addr      string // the daemon address as configured, for messages
	userAgent string
	timeout   time.Duration

	mu         sync.Mutex
	apiVersion string
}

// Endpoint is the parsed form of a daemon address.
type Endpoint struct {
	// Network is "unix" or "tcp".
	Network string
	// Address is the socket path (unix) or host:port (tcp).
	Address string
	// TLS is true when the daemon is spoken to over HTTPS.
	TLS bool
}

// ParseHost turns a daemon address into an Endpoint. useTLS says whether TLS material was
// given; it makes tcp:// addresses use HTTPS.
func ParseHost(host string, useTLS bool) (Endpoint, error) {
	host = hostOrDefault(host)
	scheme, rest, ok := strings.Cut(host, "://")
	if !ok {
		return Endpoint{}, fmt.Errorf("docker host %q: expected unix://PATH, tcp://HOST:PORT, http:// or https://", host)
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "unix":
		if rest == "" || !strings.HasPrefix(rest, "/") {
			return Endpoint{}, fmt.Errorf("docker host %q: unix socket path must be absolute", host)
		}
		return Endpoint{Network: "unix", Address: rest}, nil
	case "tcp", "http", "https":
		u, err := url.Parse("http://" + rest)
		if err != nil {
			return Endpoint{}, fmt.Errorf("docker host %q: %w", host, err)
		}
		if u.Host == "" {
			return Endpoint{}, fmt.Errorf("docker host %q: missing host", host)
		}
		if u.Path != "" && u.Path != "/" {
			return Endpoint{}, fmt.Errorf("docker host %q: a path is not supported", host)
		}
		addr := u.Host
		if u.Port() == "" {
			var port string
			switch {
			case scheme == "http":
				port = "80"
			case scheme == "https":
				port = "443"
			case useTLS:
				port = "2376"
			default:
				port = "2375"
			}
			addr = net.JoinHostPort(u.Hostname(), port)
		}
		tlsOn := scheme == "https" || (scheme == "tcp" && useTLS)
		if scheme == "http" && useTLS {
			return Endpoint{}, fmt.Errorf("docker host %q: TLS material given for an http:// address", host)
		}
		return Endpoint{Network: "tcp", Address: addr, TLS: tlsOn}, nil
	case "ssh":
		return Endpoint{}, fmt.Errorf("docker host %q: ssh:// is not supported by this provider; use tcp:// with TLS or a unix socket", host)
	case "npipe":
		return Endpoint{}, fmt.Errorf("docker host %q: named pipes are not supported", host)
	default:
		return Endpoint{}, fmt.Errorf("docker host %q: unsupported scheme %q", host, scheme)
	}
}

func hostOrDefault(h string) string {
	if h == "" {
		return DefaultHost
	}
	return h
}

// TLSConfig builds a client TLS configuration from PEM strings.
func TLSConfig(caPEM, certPEM, keyPEM string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, errors.New("caMaterial: no PEM certificate found")
		}
		cfg.RootCAs = pool
	}
	if (certPEM == "") != (keyPEM == "") {
		return nil, errors.New("certMaterial and keyMaterial must be given together")
	}
	if certPEM != "" {
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			return nil, fmt.Errorf("certMaterial/keyMaterial: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// New builds a client. It does not contact the daemon.
func New(cfg Config) (*Client, error) {
	useTLS := cfg.CAPEM != "" || cfg.CertPEM != "" || cfg.KeyPEM != ""
	ep, err := ParseHost(cfg.Host, useTLS)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		MaxIdleConns:          8,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	base := "http://docker" // the Host header for unix sockets; the daemon ignores it
	switch ep.Network {
	case "unix":
		path := ep.Address
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		}
	case "tcp":
		tr.DialContext = dialer.DialContext
		if ep.TLS {
			tc, err := TLSConfig(cfg.CAPEM, cfg.CertPEM, cfg.KeyPEM)
			if err != nil {
				return nil, err
			}
			host, _, _ := net.SplitHostPort(ep.Address)
			tc.ServerName = host
			tr.TLSClientConfig = tc
			base = "https://" + ep.Address
		} else {
			base = "http://" + ep.Address
		}
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "consul-swarm-dockerapi"
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	return &Client{
		http:       &http.Client{Transport: tr},
		base:       base,
		addr:       hostOrDefault(cfg.Host),
		userAgent:  ua,
		timeout:    timeout,
		apiVersion: strings.TrimPrefix(cfg.APIVersion, "v"),
	}, nil
}

// Close releases idle connections.
func (c *Client) Close() {
	c.http.CloseIdleConnections()
}

// APIError is a non-success answer from the daemon.
type APIError struct {
	StatusCode int
	Message    string
	Method     string
	Path       string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("docker %s %s: %d: %s", e.Method, e.Path, e.StatusCode, msg)
}

// IsNotFound says whether err is the daemon's "no such object" answer.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// IsConflict says whether err is the daemon's 409 answer (name in use, object in use, removal
// in progress).
func IsConflict(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusConflict
}

// Ping checks that the daemon answers and returns the newest API version it speaks.
func (c *Client) Ping(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/_ping", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("docker daemon at %s does not answer: %w", c.addr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return "", &APIError{StatusCode: resp.StatusCode, Message: strings.TrimSpace(string(body)), Method: "GET", Path: "/_ping"}
	}
	return resp.Header.Get("Api-Version"), nil
}

// APIVersion returns the version the client uses, asking the daemon on first use.
func (c *Client) APIVersion(ctx context.Context) (string, error) {
	c.mu.Lock()
	v := c.apiVersion
	c.mu.Unlock()
	if v != "" {
		return v, nil
	}
	server, err := c.Ping(ctx)
	if err != nil {
		return "", err
	}
	v = MaxAPIVersion
	if server != "" && CompareVersions(server, MaxAPIVersion) < 0 {
		v = server
	}
	c.mu.Lock()
	c.apiVersion = v
	c.mu.Unlock()
	return v, nil
}

// CompareVersions compares dotted API versions ("1.41" < "1.9" is false): -1, 0 or 1.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// request is one API call.
type request struct {
	method string
	path   string     // without the version prefix, e.g. "/containers/create"
	query  url.Values // may be nil
	body   any        // JSON-encoded when not nil
	// raw, when not nil, is sent as the body instead of JSON, with contentType.
	raw         io.Reader
	contentType string
	// noTimeout disables the client's per-request timeout (for calls that block on purpose,
	// such as stop with a long grace period); the caller's context still applies.
	noTimeout bool
}

// rawText collects an answer as text instead of decoding JSON.
type rawText struct{ w io.Writer }

// BuildPath returns the versioned request path with its query string.
func BuildPath(version, path string, query url.Values) string {
	p := path
	if version != "" {
		p = "/v" + version + path
	}
	if len(query) > 0 {
		p += "?" + query.Encode()
	}
	return p
}

// do sends r and decodes a JSON answer into out (when out is not nil). Success is any 2xx or
// 304 (the daemon's "nothing to do" for start/stop).
func (c *Client) do(ctx context.Context, r request, out any) error {
	version, err := c.APIVersion(ctx)
	if err != nil {
		return err
	}
	if !r.noTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var body io.Reader = r.raw
	if r.body != nil {
		buf, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", r.method, r.path, err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+BuildPath(version, r.path, r.query), body)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", c.userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else if r.raw != nil {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("docker %s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified || (resp.StatusCode >= 200 && resp.StatusCode < 300) {
		if out == nil || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			return nil
		}
		if rt, ok := out.(*rawText); ok {
			_, err := io.Copy(rt.w, resp.Body)
			return err
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("docker %s %s: decoding answer: %w", r.method, r.path, err)
		}
		return nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return &APIError{StatusCode: resp.StatusCode, Message: errorMessage(raw), Method: r.method, Path: r.path}
}

// errorMessage extracts the daemon's {"message": "..."} text, or returns the raw body.
func errorMessage(raw []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &m) == nil && m.Message != "" {
		return m.Message
	}
	return strings.TrimSpace(string(raw))
}

// escape encodes one path segment.
func escape(s string) string {
	return url.PathEscape(s)
}
