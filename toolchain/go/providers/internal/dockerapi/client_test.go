package dockerapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseHost(t *testing.T) {
	cases := []struct {
		host   string
		tls    bool
		want   Endpoint
		errSub string
	}{
		{host: "", want: Endpoint{Network: "unix", Address: "/var/run/docker.sock"}},
		{host: "unix:///run/user/1000/docker.sock", want: Endpoint{Network: "unix", Address: "/run/user/1000/docker.sock"}},
		{host: "tcp://10.0.0.5:2375", want: Endpoint{Network: "tcp", Address: "10.0.0.5:2375"}},
		{host: "tcp://10.0.0.5", want: Endpoint{Network: "tcp", Address: "10.0.0.5:2375"}},
		{host: "tcp://10.0.0.5", tls: true, want: Endpoint{Network: "tcp", Address: "10.0.0.5:2376", TLS: true}},
		{host: "tcp://docker.lab:2376", tls: true, want: Endpoint{Network: "tcp", Address: "docker.lab:2376", TLS: true}},
		{host: "https://docker.lab", want: Endpoint{Network: "tcp", Address: "docker.lab:443", TLS: true}},
		{host: "http://127.0.0.1:8080", want: Endpoint{Network: "tcp", Address: "127.0.0.1:8080"}},
		{host: "TCP://[::1]:2375", want: Endpoint{Network: "tcp", Address: "[::1]:2375"}},
		{host: "http://127.0.0.1:8080", tls: true, errSub: "TLS material"},
		{host: "ssh://user@host", errSub: "ssh:// is not supported"},
		{host: "npipe:////./pipe/docker_engine", errSub: "named pipes"},
		{host: "unix://relative.sock", errSub: "absolute"},
		{host: "tcp://host:2375/path", errSub: "path"},
		{host: "/var/run/docker.sock", errSub: "expected"},
		{host: "ftp://x", errSub: "unsupported scheme"},
	}
	for _, c := range cases {
		got, err := ParseHost(c.host, c.tls)
		if c.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), c.errSub) {
				t.Errorf("ParseHost(%q, %v) error = %v, want one containing %q", c.host, c.tls, err, c.errSub)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseHost(%q, %v) unexpected error %v", c.host, c.tls, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseHost(%q, %v) = %+v, want %+v", c.host, c.tls, got, c.want)
		}
	}
}

func TestBuildPathAndVersions(t *testing.T) {
	if got := BuildPath("1.41", "/containers/create", url.Values{"name": {"a b"}}); got != "/v1.41/containers/create?name=a+b" {
		t.Errorf("BuildPath = %q", got)
	}
	if got := BuildPath("", "/_ping", nil); got != "/_ping" {
		t.Errorf("BuildPath = %q", got)
	}
	for _, c := range []struct {
		a, b string
		want int
	}{{"1.41", "1.41", 0}, {"1.9", "1.41", -1}, {"1.43", "1.41", 1}, {"2.0", "1.99", 1}, {"1.41", "1.41.0", 0}} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// recorded is one request the fake daemon saw.
type recorded struct {
	Method, Path, Query string
	Body                map[string]any
}

// fakeDaemon answers like a Docker daemon from a table of canned replies keyed by
// "METHOD path" (path without the version prefix).
type fakeDaemon struct {
	t          *testing.T
	apiVersion string
	mu         sync.Mutex
	seen       []recorded
	replies    map[string]func(w http.ResponseWriter, r *http.Request)
}

func (f *fakeDaemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_ping" {
		w.Header().Set("Api-Version", f.apiVersion)
		_, _ = io.WriteString(w, "OK")
		return
	}
	path := r.URL.Path
	prefix := "/v" + f.apiVersion
	if !strings.HasPrefix(path, prefix+"/") {
		f.t.Errorf("request %s without version prefix %s", path, prefix)
	}
	path = strings.TrimPrefix(path, prefix)
	rec := recorded{Method: r.Method, Path: path, Query: r.URL.RawQuery}
	if raw, _ := io.ReadAll(r.Body); len(raw) > 0 {
		if err := json.Unmarshal(raw, &rec.Body); err != nil {
			f.t.Errorf("body of %s %s is not JSON: %v", r.Method, path, err)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			f.t.Errorf("content type %q", ct)
		}
	}
	f.mu.Lock()
	f.seen = append(f.seen, rec)
	reply := f.replies[r.Method+" "+path]
	f.mu.Unlock()
	if reply == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"No such object: x"}`)
		return
	}
	reply(w, r)
}

func jsonReply(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// startUnixDaemon serves f on a unix socket and returns a client for it.
func startUnixDaemon(t *testing.T, f *fakeDaemon) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	c, err := New(Config{Host: "unix://" + sock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUnixSocketRequests(t *testing.T) {
	f := &fakeDaemon{t: t, apiVersion: "1.40", replies: map[string]func(http.ResponseWriter, *http.Request){
		"POST /networks/create":              jsonReply(201, `{"Id":"net123","Warning":""}`),
		"POST /volumes/create":               jsonReply(201, `{"Name":"data","Driver":"local","Mountpoint":"/var/lib/docker/volumes/data/_data"}`),
		"POST /containers/create":            jsonReply(201, `{"Id":"c0ffee","Warnings":[]}`),
		"POST /containers/c0ffee/start":      jsonReply(204, ``),
		"POST /containers/c0ffee/stop":       jsonReply(304, ``),
		"DELETE /containers/c0ffee":          jsonReply(204, ``),
		"DELETE /networks/net123":            jsonReply(409, `{"message":"network has active endpoints"}`),
		"GET /images/lab/busybox:1/json":     jsonReply(200, `{"Id":"sha256:abc","RepoTags":["lab/busybox:1"]}`),
		"POST /networks/net123/connect":      jsonReply(200, ``),
		"GET /containers/c0ffee/json":        jsonReply(200, `{"Id":"c0ffee","Name":"/web","State":{"Running":true,"Status":"running"},"NetworkSettings":{"Networks":{"lab":{"IPAddress":"10.9.0.5","IPPrefixLen":24,"Gateway":"10.9.0.1","IPAMConfig":{"IPv4Address":"10.9.0.5"}}}}}`),
		"POST /containers/c0ffee/update":     jsonReply(200, `{"Warnings":null}`),
		"POST /containers/c0ffee/wait":       jsonReply(200, `{"StatusCode":3}`),
		"GET /volumes/data":                  jsonReply(200, `{"Name":"data","Driver":"local","Labels":{"a":"b"}}`),
		"DELETE /volumes/data":               jsonReply(204, ``),
		"GET /networks/net123":               jsonReply(200, `{"Id":"net123","Name":"lab","Driver":"bridge","IPAM":{"Driver":"default","Config":[{"Subnet":"10.9.0.0/24","Gateway":"10.9.0.1"}]}}`),
		"POST /networks/net123/disconnect":   jsonReply(200, ``),
		"GET /containers/missing/json":       jsonReply(404, `{"message":"No such container: missing"}`),
		"GET /images/sha256:abc/json":        jsonReply(200, `{"Id":"sha256:abc"}`),
		"GET /images/registry:5000/x:1/json": jsonReply(200, `{"Id":"sha256:def"}`),
	}}
	c := startUnixDaemon(t, f)
	ctx := context.Background()

	// The daemon is older than MaxAPIVersion: its version is used.
	if v, err := c.APIVersion(ctx); err != nil || v != "1.40" {
		t.Fatalf("APIVersion = %q, %v", v, err)
	}

	id, err := c.NetworkCreate(ctx, NetworkCreateRequest{
		Name: "lab", CheckDuplicate: true, Driver: "bridge", Internal: true,
		IPAM:   &IPAM{Driver: "default", Config: []IPAMPool{{Subnet: "10.9.0.0/24", Gateway: "10.9.0.1"}}},
		Labels: map[string]string{"project": "consul-swarm"},
	})
	if err != nil || id != "net123" {
		t.Fatalf("NetworkCreate = %q, %v", id, err)
	}
	nw, err := c.NetworkInspect(ctx, "net123")
	if err != nil || nw.IPAM.Config[0].Subnet != "10.9.0.0/24" || nw.Name != "lab" {
		t.Fatalf("NetworkInspect = %+v, %v", nw, err)
	}

	vol, err := c.VolumeCreate(ctx, VolumeCreateRequest{Name: "data", Labels: map[string]string{"a": "b"}})
	if err != nil || vol.Mountpoint == "" {
		t.Fatalf("VolumeCreate = %+v, %v", vol, err)
	}
	if v, err := c.VolumeInspect(ctx, "data"); err != nil || v.Labels["a"] != "b" {
		t.Fatalf("VolumeInspect = %+v, %v", v, err)
	}

	stop := 5
	req := &ContainerCreateRequest{
		ContainerConfig: ContainerConfig{
			Image: "lab/busybox:1", Hostname: "web", Env: []string{"A=1"}, Cmd: []string{"sleep", "1000"},
			Labels: map[string]string{"role": "web"}, StopTimeout: &stop,
		},
		HostConfig: &HostConfig{
			NetworkMode:   "lab",
			RestartPolicy: RestartPolicy{Name: "unless-stopped"},
			CapAdd:        []string{"NET_ADMIN"}, CapDrop: []string{"MKNOD"},
			SecurityOpt:  []string{"seccomp=unconfined"},
			Tmpfs:        map[string]string{"/run": "rw"},
			Binds:        []string{"data:/data:ro", "/sys/fs/cgroup:/sys/fs/cgroup:rw"},
			CgroupnsMode: "host",
		},
		NetworkingConfig: &NetworkingConfig{EndpointsConfig: map[string]*EndpointSettings{
			"lab": {IPAMConfig: &EndpointIPAMConfig{IPv4Address: "10.9.0.5"}, Aliases: []string{"web"}},
		}},
	}
	cid, warnings, err := c.ContainerCreate(ctx, "web", req)
	if err != nil || cid != "c0ffee" || len(warnings) != 0 {
		t.Fatalf("ContainerCreate = %q %v %v", cid, warnings, err)
	}
	if err := c.NetworkConnect(ctx, "net123", cid, &EndpointSettings{Aliases: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.NetworkDisconnect(ctx, "net123", cid, true); err != nil {
		t.Fatal(err)
	}
	if err := c.ContainerStart(ctx, cid); err != nil {
		t.Fatal(err)
	}
	cj, err := c.ContainerInspect(ctx, cid)
	if err != nil || !cj.State.Running || cj.NetworkSettings.Networks["lab"].IPAddress != "10.9.0.5" {
		t.Fatalf("ContainerInspect = %+v, %v", cj, err)
	}
	if _, err := c.ContainerUpdate(ctx, cid, &UpdateConfig{RestartPolicy: &RestartPolicy{Name: "always"}}); err != nil {
		t.Fatal(err)
	}
	grace := 7 * time.Second
	if err := c.ContainerStop(ctx, cid, &grace); err != nil {
		t.Fatalf("stop (304) should succeed: %v", err)
	}
	if code, err := c.ContainerWait(ctx, cid, "not-running"); err != nil || code != 3 {
		t.Fatalf("ContainerWait = %d, %v", code, err)
	}
	if err := c.ContainerRemove(ctx, cid, true, true); err != nil {
		t.Fatal(err)
	}
	if err := c.VolumeRemove(ctx, "data", false); err != nil {
		t.Fatal(err)
	}
	err = c.NetworkRemove(ctx, "net123")
	if !IsConflict(err) || IsNotFound(err) || !strings.Contains(err.Error(), "active endpoints") {
		t.Fatalf("NetworkRemove error = %v, want a 409 with the daemon's message", err)
	}
	_, err = c.ContainerInspect(ctx, "missing")
	if !IsNotFound(err) {
		t.Fatalf("inspect of a missing container: %v, want not found", err)
	}
	if _, err := c.ImageInspect(ctx, "lab/busybox:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImageInspect(ctx, "sha256:abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImageInspect(ctx, "registry:5000/x:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImageInspect(ctx, "nope?x=1"); !IsNotFound(err) {
		t.Fatalf("a '?' in an image name must not become a query: %v", err)
	}

	// Check the bodies and queries the daemon received.
	byKey := map[string]recorded{}
	for _, r := range f.seen {
		byKey[r.Method+" "+r.Path] = r
	}
	netBody := byKey["POST /networks/create"].Body
	if netBody["Name"] != "lab" || netBody["CheckDuplicate"] != true || netBody["Internal"] != true {
		t.Errorf("network create body %v", netBody)
	}
	ipam := netBody["IPAM"].(map[string]any)["Config"].([]any)[0].(map[string]any)
	if ipam["Subnet"] != "10.9.0.0/24" || ipam["Gateway"] != "10.9.0.1" {
		t.Errorf("network IPAM %v", ipam)
	}
	cr := byKey["POST /containers/create"]
	if cr.Query != "name=web" {
		t.Errorf("create query %q", cr.Query)
	}
	body := cr.Body
	if body["Image"] != "lab/busybox:1" || body["Hostname"] != "web" || body["StopTimeout"] != float64(5) {
		t.Errorf("create body top level %v", body)
	}
	hc := body["HostConfig"].(map[string]any)
	if hc["CgroupnsMode"] != "host" || hc["NetworkMode"] != "lab" ||
		hc["RestartPolicy"].(map[string]any)["Name"] != "unless-stopped" ||
		hc["Tmpfs"].(map[string]any)["/run"] != "rw" ||
		len(hc["Binds"].([]any)) != 2 || hc["CapAdd"].([]any)[0] != "NET_ADMIN" || hc["CapDrop"].([]any)[0] != "MKNOD" ||
		hc["SecurityOpt"].([]any)[0] != "seccomp=unconfined" {
		t.Errorf("create HostConfig %v", hc)
	}
	if _, ok := hc["Privileged"]; ok {
		t.Errorf("unset booleans must be left out: %v", hc)
	}
	ep := body["NetworkingConfig"].(map[string]any)["EndpointsConfig"].(map[string]any)["lab"].(map[string]any)
	if ep["IPAMConfig"].(map[string]any)["IPv4Address"] != "10.9.0.5" || ep["Aliases"].([]any)[0] != "web" {
		t.Errorf("create endpoint %v", ep)
	}
	if q := byKey["POST /containers/c0ffee/stop"].Query; q != "t=7" {
		t.Errorf("stop query %q", q)
	}
	if q := byKey["DELETE /containers/c0ffee"].Query; q != "force=true&v=true" {
		t.Errorf("remove query %q", q)
	}
	if q := byKey["DELETE /volumes/data"].Query; q != "force=false" {
		t.Errorf("volume remove query %q", q)
	}
	if b := byKey["POST /networks/net123/connect"].Body; b["Container"] != "c0ffee" {
		t.Errorf("connect body %v", b)
	}
	if b := byKey["POST /containers/c0ffee/update"].Body; b["RestartPolicy"].(map[string]any)["Name"] != "always" || len(b) != 1 {
		t.Errorf("update body %v", b)
	}
}

func TestNewerDaemonUsesMaxVersion(t *testing.T) {
	f := &fakeDaemon{t: t, apiVersion: "1.47", replies: map[string]func(http.ResponseWriter, *http.Request){}}
	c := startUnixDaemon(t, f)
	if v, err := c.APIVersion(context.Background()); err != nil || v != MaxAPIVersion {
		t.Fatalf("APIVersion = %q, %v", v, err)
	}
}

func TestDaemonDown(t *testing.T) {
	c, err := New(Config{Host: "unix://" + filepath.Join(t.TempDir(), "none.sock")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ContainerInspect(context.Background(), "x")
	if err == nil || IsNotFound(err) || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("error = %v", err)
	}
}

// pki is a throwaway CA with a server and a client certificate.
type pki struct {
	caPEM, serverCert, serverKey, clientCert, clientKey string
	pool                                                *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	keyPEM := func(k *ecdsa.PrivateKey) string {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf("EC PRIVATE KEY", der)
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) (string, string) {
		k := key()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf("CERTIFICATE", der), keyPEM(k)
	}
	p := pki{caPEM: pemOf("CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	p.serverCert, p.serverKey = issue(2, "daemon", x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = issue(3, "client", x509.ExtKeyUsageClientAuth)
	return p
}

func TestTLSWithPEMMaterial(t *testing.T) {
	p := newPKI(t)
	f := &fakeDaemon{t: t, apiVersion: "1.41", replies: map[string]func(http.ResponseWriter, *http.Request){
		"GET /volumes/v": jsonReply(200, `{"Name":"v"}`),
	}}
	srv := httptest.NewUnstartedServer(f)
	pair, err := tls.X509KeyPair([]byte(p.serverCert), []byte(p.serverKey))
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
	srv.StartTLS()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")

	c, err := New(Config{Host: "tcp://" + addr, CAPEM: p.caPEM, CertPEM: p.clientCert, KeyPEM: p.clientKey})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.VolumeInspect(context.Background(), "v"); err != nil || v.Name != "v" {
		t.Fatalf("over TLS: %+v, %v", v, err)
	}

	// Without a client certificate the daemon refuses the handshake.
	c2, err := New(Config{Host: "tcp://" + addr, CAPEM: p.caPEM})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Ping(context.Background()); err == nil {
		t.Fatal("a daemon that requires a client certificate accepted a client without one")
	}
	// Without the CA the daemon's certificate is not trusted.
	c3, err := New(Config{Host: "tcp://" + addr, CertPEM: p.clientCert, KeyPEM: p.clientKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c3.Ping(context.Background()); err == nil {
		t.Fatal("an unknown CA was trusted")
	}
}

func TestTLSConfigErrors(t *testing.T) {
	if _, err := TLSConfig("not pem", "", ""); err == nil {
		t.Error("bad CA accepted")
	}
	p := newPKI(t)
	if _, err := TLSConfig(p.caPEM, p.clientCert, ""); err == nil {
		t.Error("cert without key accepted")
	}
	if _, err := TLSConfig(p.caPEM, p.clientCert, p.serverKey); err == nil {
		t.Error("mismatched cert/key accepted")
	}
	if _, err := New(Config{Host: "tcp://127.0.0.1:1", CAPEM: "junk"}); err == nil {
		t.Error("New accepted a bad CA")
	}
}
