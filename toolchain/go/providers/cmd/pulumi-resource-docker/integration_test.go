package main

// Integration test against a real Docker engine, through the plugin's gRPC server (the same
// code path the Pulumi engine drives, minus the process boundary).
//
// It runs only when a daemon answers at DOCKER_HOST (default unix:///var/run/docker.sock) and
// skips otherwise; set DOCKER_INTEGRATION=require to turn the skip into a failure (CI with a
// daemon), or DOCKER_INTEGRATION=skip to never run it. It needs no image registry: it builds a
// tiny static Go program and imports it as an image. Everything it creates is named
// pdit-<random>-* and removed at the end, also on failure. It uses the subnet in
// DOCKER_IT_SUBNET (default 172.31.251.0/24) for its fixed-address network.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"consul-swarm/toolchain/providers/internal/dockerapi"
	"consul-swarm/toolchain/providers/internal/framework"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil/rpcerror"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// daemonOrSkip returns a client for the test daemon, or skips the test.
func daemonOrSkip(t *testing.T) *dockerapi.Client {
	t.Helper()
	mode := os.Getenv("DOCKER_INTEGRATION")
	if mode == "skip" || (testing.Short() && mode != "require") {
		t.Skip("Docker integration test skipped (-short or DOCKER_INTEGRATION=skip)")
	}
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = dockerapi.DefaultHost
	}
	cl, err := dockerapi.New(dockerapi.Config{Host: host})
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = cl.Ping(ctx)
	}
	if err != nil {
		if mode == "require" {
			t.Fatalf("DOCKER_INTEGRATION=require but no Docker engine answers at %s: %v", host, err)
		}
		t.Skipf("SKIP: no Docker engine answers at %s (%v); start dockerd or set DOCKER_HOST to run this test "+
			"(DOCKER_INTEGRATION=require makes this a failure)", host, err)
	}
	return cl
}

// sleeperSource is the test image's only program: it sleeps until stopped, or exits with the
// code given as "exit N".
const sleeperSource = `package main

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "exit" {
		n, _ := strconv.Atoi(os.Args[2])
		os.Exit(n)
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
`

// buildImage compiles the sleeper statically and imports it as an image.
func buildImage(t *testing.T, cl *dockerapi.Client, repo string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"go.mod": "module sleeper\n\ngo 1.21\n", "main.go": sleeperSource} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "sleeper")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test program: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"data/", "run/", "tmp/"} {
		_ = tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755})
	}
	_ = tw.WriteHeader(&tar.Header{Name: "sleeper", Mode: 0o755, Size: int64(len(data))})
	_, _ = tw.Write(data)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cl.ImageImport(ctx, &buf, repo, "1", []string{`ENTRYPOINT ["/sleeper"]`}); err != nil {
		t.Fatalf("importing the test image: %v", err)
	}
	ref := repo + ":1"
	t.Cleanup(func() { _ = cl.ImageRemove(context.Background(), ref, true) })
	return ref
}

// rpc wraps the plugin server with property-map helpers.
type rpc struct {
	t   *testing.T
	srv pulumirpc.ResourceProviderServer
}

func (r rpc) st(m pmap) *structpb.Struct {
	s, err := plugin.MarshalProperties(m, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r rpc) pm(s *structpb.Struct) pmap {
	m, err := plugin.UnmarshalProperties(s, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true})
	if err != nil {
		r.t.Fatal(err)
	}
	return m
}

func urn(typ, name string) string {
	return "urn:pulumi:it::dock::" + typ + "::" + name
}

// check runs Check and fails the test on failures.
func (r rpc) check(typ, name string, news pmap) pmap {
	r.t.Helper()
	resp, err := r.srv.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: urn(typ, name), Name: name, Type: typ, News: r.st(news), RandomSeed: []byte(name),
	})
	if err != nil {
		r.t.Fatalf("check %s: %v", name, err)
	}
	if len(resp.Failures) > 0 {
		r.t.Fatalf("check %s failures: %v", name, resp.Failures)
	}
	return r.pm(resp.Inputs)
}

func (r rpc) create(typ, name string, in pmap) (string, pmap, error) {
	resp, err := r.srv.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: urn(typ, name), Name: name, Type: typ, Properties: r.st(in),
	})
	if err != nil {
		return "", nil, err
	}
	return resp.Id, r.pm(resp.Properties), nil
}

func (r rpc) read(typ, name, id string, state, in pmap) (string, pmap, pmap) {
	r.t.Helper()
	resp, err := r.srv.Read(context.Background(), &pulumirpc.ReadRequest{
		Urn: urn(typ, name), Name: name, Type: typ, Id: id, Properties: r.st(state), Inputs: r.st(in),
	})
	if err != nil {
		r.t.Fatalf("read %s: %v", name, err)
	}
	return resp.Id, r.pm(resp.Properties), r.pm(resp.Inputs)
}

func (r rpc) diff(typ, name, id string, state, olds, news pmap) *pulumirpc.DiffResponse {
	r.t.Helper()
	resp, err := r.srv.Diff(context.Background(), &pulumirpc.DiffRequest{
		Urn: urn(typ, name), Name: name, Type: typ, Id: id, Olds: r.st(state), OldInputs: r.st(olds), News: r.st(news),
	})
	if err != nil {
		r.t.Fatalf("diff %s: %v", name, err)
	}
	return resp
}

func (r rpc) delete(typ, name, id string, state pmap) {
	r.t.Helper()
	if _, err := r.srv.Delete(context.Background(), &pulumirpc.DeleteRequest{
		Urn: urn(typ, name), Name: name, Type: typ, Id: id, Properties: r.st(state), OldInputs: r.st(state),
	}); err != nil {
		r.t.Fatalf("delete %s: %v", name, err)
	}
}

func TestIntegrationDocker(t *testing.T) {
	cl := daemonOrSkip(t)
	ctx := context.Background()
	rnd := make([]byte, 3)
	_, _ = rand.Read(rnd)
	prefix := "pdit-" + hex.EncodeToString(rnd)
	subnet := os.Getenv("DOCKER_IT_SUBNET")
	if subnet == "" {
		subnet = "172.31.251.0/24"
	}
	pfx, err := netip.ParsePrefix(subnet)
	if err != nil || !pfx.Addr().Is4() || pfx.Bits() > 28 {
		t.Fatalf("DOCKER_IT_SUBNET %q must be an IPv4 subnet of at least 16 addresses", subnet)
	}
	gateway := pfx.Addr().Next()
	fixedIP := gateway.Next().Next().Next()

	// Whatever happens, remove what the test made.
	var containers, networks, volumes []string
	t.Cleanup(func() {
		bg := context.Background()
		for _, c := range containers {
			_ = cl.ContainerRemove(bg, c, true, true)
		}
		for _, v := range volumes {
			_ = cl.VolumeRemove(bg, v, true)
		}
		for _, n := range networks {
			_ = cl.NetworkRemove(bg, n)
		}
	})
	image := buildImage(t, cl, prefix+"-img")

	server, err := framework.NewServer(newProvider(), "")
	if err != nil {
		t.Fatal(err)
	}
	r := rpc{t: t, srv: server}
	if info, err := server.GetPluginInfo(ctx, &emptypb.Empty{}); err != nil || info.Version != version {
		t.Fatalf("GetPluginInfo %v %v", info, err)
	}
	cfg := pmap{}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		cfg["host"] = resource.NewProperty(h)
	}
	if _, err := server.Configure(ctx, &pulumirpc.ConfigureRequest{Args: r.st(cfg)}); err != nil {
		t.Fatal(err)
	}

	// --- networks and a volume ---------------------------------------------------------
	netIn := r.check(networkToken, "net1", props(map[string]any{
		"name":        prefix + "-net1",
		"ipamConfigs": []any{map[string]any{"subnet": subnet, "gateway": gateway.String()}},
		"labels":      []any{map[string]any{"label": "test", "value": prefix}},
	}))
	net1ID, net1State, err := r.create(networkToken, "net1", netIn)
	if err != nil {
		t.Fatalf("create net1: %v", err)
	}
	networks = append(networks, net1ID)
	if pools := objList(net1State, "ipamConfigs"); len(pools) != 1 || str(pools[0], "subnet") != subnet {
		t.Errorf("net1 state %v", net1State)
	}
	net2In := r.check(networkToken, "net2", pmap{}) // autonamed, Docker picks the subnet
	if !strings.HasPrefix(str(net2In, "name"), "net2-") {
		t.Errorf("net2 not autonamed: %v", net2In)
	}
	net2In["name"] = resource.NewProperty(prefix + "-" + str(net2In, "name"))
	net2ID, net2State, err := r.create(networkToken, "net2", net2In)
	if err != nil {
		t.Fatalf("create net2: %v", err)
	}
	networks = append(networks, net2ID)

	volIn := r.check(volumeToken, "vol", props(map[string]any{"name": prefix + "-vol"}))
	volID, volState, err := r.create(volumeToken, "vol", volIn)
	if err != nil || volID != prefix+"-vol" || str(volState, "mountpoint") == "" {
		t.Fatalf("create volume: %q %v %v", volID, volState, err)
	}
	volumes = append(volumes, volID)
	// A second volume of the same name is refused rather than adopted.
	if _, _, err := r.create(volumeToken, "vol2", volIn); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate volume: %v", err)
	}

	// --- a container like a lab host ----------------------------------------------------
	cName := prefix + "-c1"
	cIn := r.check(containerToken, "c1", props(map[string]any{
		"name":     cName,
		"image":    image,
		"hostname": "c1",
		"envs":     []any{"ROLE=it"},
		"labels":   []any{map[string]any{"label": "test", "value": prefix}},
		"networksAdvanced": []any{
			map[string]any{"name": prefix + "-net1", "ipv4Address": fixedIP.String(), "aliases": []any{"c1"}},
			map[string]any{"name": net2ID},
		},
		"capabilities": map[string]any{"adds": []any{"NET_ADMIN"}, "drops": []any{"MKNOD"}},
		"securityOpts": []any{"no-new-privileges"},
		"tmpfs":        map[string]any{"/run": "rw,size=8m"},
		"volumes": []any{
			map[string]any{"volumeName": volID, "containerPath": "/data"},
			map[string]any{"containerPath": "/anon"},
		},
		"restart":      "unless-stopped",
		"cgroupnsMode": "private",
	}))
	cID, cState, err := r.create(containerToken, "c1", cIn)
	if err != nil {
		t.Fatalf("create container: %v", err)
	}
	containers = append(containers, cID)
	cj, err := cl.ContainerInspect(ctx, cID)
	if err != nil {
		t.Fatal(err)
	}
	if !cj.State.Running {
		t.Fatalf("container not running: %+v", cj.State)
	}
	if ep := cj.NetworkSettings.Networks[prefix+"-net1"]; ep == nil || ep.IPAddress != fixedIP.String() {
		t.Errorf("fixed address: %+v", cj.NetworkSettings.Networks)
	}
	if len(cj.NetworkSettings.Networks) != 2 || cj.NetworkSettings.Networks["bridge"] != nil {
		t.Errorf("networks: %v", cj.NetworkSettings.Networks)
	}
	hc := cj.HostConfig
	if !sameStringSet(hc.CapAdd, []string{"NET_ADMIN"}, normCap) || !sameStringSet(hc.CapDrop, []string{"MKNOD"}, normCap) ||
		hc.Tmpfs["/run"] != "rw,size=8m" || hc.CgroupnsMode != "private" || hc.RestartPolicy.Name != "unless-stopped" ||
		len(hc.Binds) != 1 || hc.Binds[0] != volID+":/data" || len(hc.SecurityOpt) != 1 {
		t.Errorf("host config: %+v", hc)
	}
	var anon string
	for _, m := range cj.Mounts {
		if m.Destination == "/anon" {
			anon = m.Name
		}
	}
	if anon == "" {
		t.Errorf("no anonymous volume: %+v", cj.Mounts)
	}
	if nd := objList(cState, "networkDatas"); len(nd) != 2 {
		t.Errorf("networkDatas %v", nd)
	}
	if str(cState, "hostname") != "c1" {
		t.Errorf("state %v", cState)
	}

	// Refresh of an unchanged container changes nothing, and the diff is empty.
	id, st, in := r.read(containerToken, "c1", cID, cState, cIn)
	if id != cID || framework.Has(st, "exitCode") {
		t.Fatalf("read: %q %v", id, st)
	}
	if d := r.diff(containerToken, "c1", cID, st, in, cIn); d.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("diff after refresh: %v", d)
	}

	// In-place update of the restart policy keeps the container.
	newIn := framework.Copy(cIn)
	newIn["restart"] = resource.NewProperty("always")
	d := r.diff(containerToken, "c1", cID, st, cIn, newIn)
	if d.Changes != pulumirpc.DiffResponse_DIFF_SOME || len(d.Replaces) != 0 {
		t.Fatalf("restart diff: %v", d)
	}
	up, err := server.Update(ctx, &pulumirpc.UpdateRequest{
		Urn: urn(containerToken, "c1"), Type: containerToken, Id: cID, Olds: r.st(st), OldInputs: r.st(cIn), News: r.st(newIn),
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if cj, _ = cl.ContainerInspect(ctx, cID); cj.HostConfig.RestartPolicy.Name != "always" {
		t.Errorf("restart not updated: %+v", cj.HostConfig.RestartPolicy)
	}
	cIn, cState = newIn, r.pm(up.Properties)

	// A change Docker cannot apply in place replaces, deleting first.
	envIn := framework.Copy(cIn)
	envIn["envs"] = strList([]string{"ROLE=other"})
	if d = r.diff(containerToken, "c1", cID, cState, cIn, envIn); len(d.Replaces) != 1 || d.Replaces[0] != "envs" || !d.DeleteBeforeReplace {
		t.Errorf("env diff: %v", d)
	}

	// A stopped container that must run: refresh records the exit code, the diff replaces it.
	// ("always" would restart it, so go back to "no" first, as a manual docker update would.)
	if _, err := cl.ContainerUpdate(ctx, cID, &dockerapi.UpdateConfig{RestartPolicy: &dockerapi.RestartPolicy{Name: "no"}}); err != nil {
		t.Fatal(err)
	}
	grace := time.Second
	if err := cl.ContainerStop(ctx, cID, &grace); err != nil {
		t.Fatal(err)
	}
	id, st, in = r.read(containerToken, "c1", cID, cState, cIn)
	if id != cID || !framework.Has(st, "exitCode") || str(in, "restart") != "no" {
		t.Fatalf("read of a stopped container: %q exitCode=%v restart=%v", id, st["exitCode"], in["restart"])
	}
	d = r.diff(containerToken, "c1", cID, st, in, cIn)
	if d.Changes != pulumirpc.DiffResponse_DIFF_SOME || !d.DeleteBeforeReplace || !contains(d.Replaces, "exitCode") {
		t.Fatalf("diff of a stopped container: %v", d)
	}

	// Delete removes the container and its anonymous volume, and succeeds when repeated.
	r.delete(containerToken, "c1", cID, st)
	if _, err := cl.ContainerInspect(ctx, cID); !dockerapi.IsNotFound(err) {
		t.Errorf("container still there: %v", err)
	}
	if anon != "" {
		if _, err := cl.VolumeInspect(ctx, anon); !dockerapi.IsNotFound(err) {
			t.Errorf("anonymous volume %s still there: %v", anon, err)
		}
	}
	r.delete(containerToken, "c1", cID, st)
	if id, _, _ = r.read(containerToken, "c1", cID, st, cIn); id != "" {
		t.Errorf("read of a deleted container gave %q", id)
	}

	// A container that exits at once while it must run: partial create with its id kept.
	badIn := r.check(containerToken, "c2", props(map[string]any{
		"name": prefix + "-c2", "image": image, "command": []any{"exit", "3"},
	}))
	_, _, err = r.create(containerToken, "c2", badIn)
	rerr, ok := rpcerror.FromError(err)
	if !ok {
		t.Fatalf("exiting container: want a partial-create error, got %v", err)
	}
	var badID string
	for _, det := range rerr.Details() {
		if f, ok := det.(*pulumirpc.ErrorResourceInitFailed); ok {
			badID = f.Id
		}
	}
	if badID == "" || !strings.Contains(err.Error(), "code 3") {
		t.Fatalf("exiting container: %v (details %v)", err, rerr.Details())
	}
	containers = append(containers, badID)
	r.delete(containerToken, "c2", badID, badIn)

	// rm = true and mustRun = false: a one-shot container that removes itself is fine.
	oneIn := r.check(containerToken, "c3", props(map[string]any{
		"name": prefix + "-c3", "image": image, "command": []any{"exit", "0"}, "rm": true, "mustRun": false,
	}))
	oneID, _, err := r.create(containerToken, "c3", oneIn)
	if err != nil {
		t.Fatalf("one-shot container: %v", err)
	}
	containers = append(containers, oneID)
	r.delete(containerToken, "c3", oneID, oneIn)

	// A missing image is reported, not pulled.
	missIn := r.check(containerToken, "c4", props(map[string]any{"name": prefix + "-c4", "image": prefix + "-none:1"}))
	if _, _, err := r.create(containerToken, "c4", missIn); err == nil || !strings.Contains(err.Error(), "never pulls") {
		t.Errorf("missing image: %v", err)
	}

	// Networks and volume: delete, delete again, and read as gone.
	r.delete(networkToken, "net1", net1ID, net1State)
	r.delete(networkToken, "net1", net1ID, net1State)
	r.delete(networkToken, "net2", net2ID, net2State)
	if id, _, _ = r.read(networkToken, "net1", net1ID, net1State, netIn); id != "" {
		t.Errorf("read of a deleted network gave %q", id)
	}
	r.delete(volumeToken, "vol", volID, volState)
	r.delete(volumeToken, "vol", volID, volState)
	if id, _, _ = r.read(volumeToken, "vol", volID, volState, volIn); id != "" {
		t.Errorf("read of a deleted volume gave %q", id)
	}
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}
