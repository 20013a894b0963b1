package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"consul-swarm/toolchain/providers/internal/dockerapi"
	"consul-swarm/toolchain/providers/internal/framework"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// props builds a PropertyMap from plain Go values the way the engine would send them.
func props(m map[string]any) pmap {
	return resource.NewPropertyMapFromMap(m)
}

func failuresOn(fails []framework.CheckFailure) []string {
	var out []string
	for _, f := range fails {
		out = append(out, f.Property)
	}
	return out
}

func hasFailure(fails []framework.CheckFailure, prop string) bool {
	for _, f := range fails {
		if f.Property == prop {
			return true
		}
	}
	return false
}

func common(name string) framework.Common {
	return framework.Common{URN: "urn:pulumi:dev::p::docker:index/container:Container::" + name, Name: name, Host: &framework.Host{}}
}

func TestAutoname(t *testing.T) {
	req := framework.CheckRequest{Common: common("web"), News: props(map[string]any{"image": "x"}), RandomSeed: []byte("seed")}
	a, err := autoname(req, 255)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := autoname(req, 255)
	name := str(a, "name")
	if !strings.HasPrefix(name, "web-") || len(name) != len("web-")+7 || name != str(b, "name") {
		t.Fatalf("autoname gave %q and %q", name, str(b, "name"))
	}
	// The previous name is kept across updates.
	req.Olds = props(map[string]any{"name": "web-1234567"})
	c, _ := autoname(req, 255)
	if str(c, "name") != "web-1234567" {
		t.Fatalf("old name not kept: %q", str(c, "name"))
	}
	// An explicit name wins.
	req.News = props(map[string]any{"name": "mine"})
	d, _ := autoname(req, 255)
	if str(d, "name") != "mine" {
		t.Fatalf("explicit name replaced: %q", str(d, "name"))
	}
}

func TestNetworkCheckAndRequest(t *testing.T) {
	r := &networkResource{}
	in := props(map[string]any{
		"name":        "lab",
		"driver":      "bridge",
		"internal":    true,
		"ipamConfigs": []any{map[string]any{"subnet": "10.9.0.0/24", "gateway": "10.9.0.1", "ipRange": "10.9.0.128/25"}},
		"labels":      []any{map[string]any{"label": "project", "value": "cs"}},
		"options":     map[string]any{"com.docker.network.bridge.name": "br-lab"},
	})
	_, fails, err := r.Check(context.Background(), framework.CheckRequest{Common: common("lab"), News: in})
	if err != nil || len(fails) != 0 {
		t.Fatalf("valid network rejected: %v %v", fails, err)
	}
	req := networkRequest(in)
	want := dockerapi.NetworkCreateRequest{
		Name: "lab", CheckDuplicate: true, Driver: "bridge", Internal: true,
		Options: map[string]string{"com.docker.network.bridge.name": "br-lab"},
		Labels:  map[string]string{"project": "cs"},
		IPAM: &dockerapi.IPAM{Driver: "default", Config: []dockerapi.IPAMPool{
			{Subnet: "10.9.0.0/24", Gateway: "10.9.0.1", IPRange: "10.9.0.128/25"},
		}},
	}
	if !reflect.DeepEqual(req, want) {
		t.Fatalf("request\n got %+v\nwant %+v", req, want)
	}

	bad := props(map[string]any{
		"ipamConfigs": []any{
			map[string]any{"subnet": "10.9.0.1/24"},
			map[string]any{"subnet": "10.8.0.0/24", "gateway": "10.9.0.1", "ipRange": "10.7.0.0/25"},
			map[string]any{"subnet": "nonsense"},
		},
		"labels": []any{map[string]any{"label": "", "value": "x"}},
	})
	_, fails, _ = r.Check(context.Background(), framework.CheckRequest{Common: common("lab"), News: bad})
	for _, p := range []string{"ipamConfigs[0].subnet", "ipamConfigs[1].gateway", "ipamConfigs[1].ipRange", "ipamConfigs[2].subnet", "labels[0].label"} {
		if !hasFailure(fails, p) {
			t.Errorf("no failure on %s: %v", p, failuresOn(fails))
		}
	}
	// Unknown values are not judged.
	unk := pmap{"ipamConfigs": resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.PropertyMap{"subnet": framework.Unknown()})})}
	if _, fails, _ = r.Check(context.Background(), framework.CheckRequest{Common: common("lab"), News: unk}); len(fails) != 0 {
		t.Errorf("unknown subnet rejected: %v", fails)
	}
}

func TestNetworkDiff(t *testing.T) {
	r := &networkResource{}
	old := props(map[string]any{"name": "lab", "ipamConfigs": []any{map[string]any{"subnet": "10.9.0.0/24"}}})
	same := props(map[string]any{"name": "lab", "driver": "bridge", "internal": false, "ipamConfigs": []any{map[string]any{"subnet": "10.9.0.0/24"}}, "labels": []any{}})
	d, _ := r.Diff(context.Background(), framework.DiffRequest{OldInputs: old, News: same})
	if d.Changed {
		t.Fatalf("defaults counted as a change: %+v", d)
	}
	changed := props(map[string]any{"name": "lab", "ipamConfigs": []any{map[string]any{"subnet": "10.9.1.0/24"}}})
	d, _ = r.Diff(context.Background(), framework.DiffRequest{OldInputs: old, News: changed})
	if !d.Changed || !reflect.DeepEqual(d.Replaces, []string{"ipamConfigs"}) || !d.DeleteBeforeReplace {
		t.Fatalf("subnet change: %+v", d)
	}
	// A renamed network without fixed subnets can be created before the old one is deleted.
	d, _ = r.Diff(context.Background(), framework.DiffRequest{
		OldInputs: props(map[string]any{"name": "a"}), News: props(map[string]any{"name": "b"})})
	if !d.Changed || d.DeleteBeforeReplace {
		t.Fatalf("rename: %+v", d)
	}
	// checkDuplicate has no effect on a made network.
	d, _ = r.Diff(context.Background(), framework.DiffRequest{OldInputs: old, News: framework.Copy(old).Copy()})
	if d.Changed {
		t.Fatalf("no change: %+v", d)
	}
	cd := framework.Copy(old)
	cd["checkDuplicate"] = resource.NewProperty(true)
	d, _ = r.Diff(context.Background(), framework.DiffRequest{OldInputs: old, News: cd})
	if !d.Changed || len(d.Replaces) != 0 {
		t.Fatalf("checkDuplicate: %+v", d)
	}
}

func TestVolumeCheckAndDiff(t *testing.T) {
	r := &volumeResource{}
	_, fails, _ := r.Check(context.Background(), framework.CheckRequest{Common: common("v"), News: props(map[string]any{"name": "bad name!"})})
	if !hasFailure(fails, "name") {
		t.Errorf("bad name accepted: %v", fails)
	}
	_, fails, _ = r.Check(context.Background(), framework.CheckRequest{Common: common("v"), News: props(map[string]any{"name": "x/y", "driver": "other"})})
	if len(fails) != 0 {
		t.Errorf("names of other drivers are theirs to judge: %v", fails)
	}
	_, fails, _ = r.Check(context.Background(), framework.CheckRequest{Common: common("v"), News: props(map[string]any{"cluster": map[string]any{"id": "x"}})})
	if !hasFailure(fails, "cluster") {
		t.Errorf("cluster volumes accepted: %v", fails)
	}
	old := props(map[string]any{"name": "data"})
	d, _ := r.Diff(context.Background(), framework.DiffRequest{OldInputs: old, News: props(map[string]any{"name": "data", "driver": "local"})})
	if d.Changed {
		t.Errorf("driver default counted: %+v", d)
	}
	d, _ = r.Diff(context.Background(), framework.DiffRequest{OldInputs: old, News: props(map[string]any{"name": "data", "labels": []any{map[string]any{"label": "a", "value": "b"}}})})
	if !d.Changed || len(d.Replaces) != 1 || !d.DeleteBeforeReplace {
		t.Errorf("label change: %+v", d)
	}
}

// labHost is the shape of a lab host container in the project.
func labHost() pmap {
	return props(map[string]any{
		"name":     "node1",
		"image":    "consul-swarm-lab:1",
		"hostname": "node1",
		"envs":     []any{"A=1", "B=2"},
		"command":  []any{"/sbin/init"},
		"labels":   []any{map[string]any{"label": "role", "value": "server"}},
		"networksAdvanced": []any{
			map[string]any{"name": "lab", "ipv4Address": "10.9.0.11", "aliases": []any{"node1"}},
			map[string]any{"name": "mgmt"},
		},
		"capabilities": map[string]any{"adds": []any{"NET_ADMIN", "SYS_ADMIN"}, "drops": []any{"MKNOD"}},
		"securityOpts": []any{"seccomp=unconfined", "apparmor=unconfined"},
		"tmpfs":        map[string]any{"/run": "", "/run/lock": ""},
		"volumes": []any{
			map[string]any{"hostPath": "/sys/fs/cgroup", "containerPath": "/sys/fs/cgroup"},
			map[string]any{"volumeName": "node1-docker", "containerPath": "/var/lib/docker"},
			map[string]any{"containerPath": "/scratch"},
			map[string]any{"volumeName": "cfg", "containerPath": "/etc/cfg", "readOnly": true},
		},
		"restart":      "unless-stopped",
		"cgroupnsMode": "host",
		"memory":       512,
		"cpus":         "1.5",
		"ports":        []any{map[string]any{"internal": 8500, "external": 18500}},
		"hosts":        []any{map[string]any{"host": "consul", "ip": "10.9.0.11"}},
		"healthcheck":  map[string]any{"tests": []any{"CMD", "true"}, "interval": "5s", "retries": 3},
		"init":         false,
		"stopTimeout":  30,
	})
}

func TestContainerRequest(t *testing.T) {
	req, later := containerRequest(labHost())
	hc := req.HostConfig
	if req.Image != "consul-swarm-lab:1" || req.Hostname != "node1" || !reflect.DeepEqual(req.Env, []string{"A=1", "B=2"}) ||
		!reflect.DeepEqual(req.Cmd, []string{"/sbin/init"}) || req.Labels["role"] != "server" || *req.StopTimeout != 30 {
		t.Errorf("config: %+v", req.ContainerConfig)
	}
	if hc.NetworkMode != "lab" || len(req.NetworkingConfig.EndpointsConfig) != 1 {
		t.Fatalf("first network must be the create network: mode %q, endpoints %v", hc.NetworkMode, req.NetworkingConfig.EndpointsConfig)
	}
	ep := req.NetworkingConfig.EndpointsConfig["lab"]
	if ep.IPAMConfig == nil || ep.IPAMConfig.IPv4Address != "10.9.0.11" || !reflect.DeepEqual(ep.Aliases, []string{"node1"}) {
		t.Errorf("endpoint %+v", ep)
	}
	if len(later) != 1 || later[0].network != "mgmt" || later[0].endpoint.IPAMConfig != nil {
		t.Errorf("later networks %+v", later)
	}
	if !reflect.DeepEqual(hc.CapAdd, []string{"NET_ADMIN", "SYS_ADMIN"}) || !reflect.DeepEqual(hc.CapDrop, []string{"MKNOD"}) {
		t.Errorf("caps %v %v", hc.CapAdd, hc.CapDrop)
	}
	if !reflect.DeepEqual(hc.SecurityOpt, []string{"seccomp=unconfined", "apparmor=unconfined"}) {
		t.Errorf("security opts %v", hc.SecurityOpt)
	}
	if !reflect.DeepEqual(hc.Tmpfs, map[string]string{"/run": "", "/run/lock": ""}) {
		t.Errorf("tmpfs %v", hc.Tmpfs)
	}
	wantBinds := []string{"/sys/fs/cgroup:/sys/fs/cgroup", "node1-docker:/var/lib/docker", "cfg:/etc/cfg:ro"}
	if !reflect.DeepEqual(hc.Binds, wantBinds) {
		t.Errorf("binds %v, want %v", hc.Binds, wantBinds)
	}
	if _, ok := req.Volumes["/scratch"]; !ok || len(req.Volumes) != 1 {
		t.Errorf("anonymous volumes %v", req.Volumes)
	}
	if hc.RestartPolicy != (dockerapi.RestartPolicy{Name: "unless-stopped"}) || hc.CgroupnsMode != "host" {
		t.Errorf("restart %+v cgroupns %q", hc.RestartPolicy, hc.CgroupnsMode)
	}
	if hc.Memory != 512*mb || hc.NanoCPUs != 1_500_000_000 {
		t.Errorf("memory %d nanocpus %d", hc.Memory, hc.NanoCPUs)
	}
	if _, ok := req.ExposedPorts["8500/tcp"]; !ok || hc.PortBindings["8500/tcp"][0] != (dockerapi.PortBinding{HostIP: "0.0.0.0", HostPort: "18500"}) {
		t.Errorf("ports %v %v", req.ExposedPorts, hc.PortBindings)
	}
	if !reflect.DeepEqual(hc.ExtraHosts, []string{"consul:10.9.0.11"}) {
		t.Errorf("hosts %v", hc.ExtraHosts)
	}
	if req.Healthcheck == nil || req.Healthcheck.Interval != 5e9 || req.Healthcheck.Retries != 3 {
		t.Errorf("healthcheck %+v", req.Healthcheck)
	}
	if hc.Init == nil || *hc.Init {
		t.Errorf("init %v", hc.Init)
	}
	if hc.Privileged || hc.AutoRemove || hc.ReadonlyRootfs {
		t.Errorf("unset flags set: %+v", hc)
	}

	// Without networksAdvanced the network mode is passed through (default bridge).
	plain, later := containerRequest(props(map[string]any{"image": "x"}))
	if plain.HostConfig.NetworkMode != "" || plain.NetworkingConfig != nil || len(later) != 0 {
		t.Errorf("plain container networking %+v %v", plain.HostConfig.NetworkMode, later)
	}
	if plain.HostConfig.RestartPolicy.Name != "no" {
		t.Errorf("restart default %q", plain.HostConfig.RestartPolicy.Name)
	}
	// A user network as networkMode: every advanced network other than it is connected later.
	m, later := containerRequest(props(map[string]any{"image": "x", "networkMode": "lab",
		"networksAdvanced": []any{map[string]any{"name": "lab"}, map[string]any{"name": "other"}}}))
	if m.HostConfig.NetworkMode != "lab" || len(later) != 1 || later[0].network != "other" {
		t.Errorf("networkMode lab: %q %+v", m.HostConfig.NetworkMode, later)
	}
}

func TestUpdateRequest(t *testing.T) {
	u := updateRequest(props(map[string]any{"restart": "on-failure", "maxRetryCount": 3, "memory": 64}))
	if u.RestartPolicy.Name != "on-failure" || u.RestartPolicy.MaximumRetryCount != 3 || u.Memory != 64*mb || u.MemorySwap != 128*mb {
		t.Errorf("update %+v %+v", u, u.RestartPolicy)
	}
	u = updateRequest(props(map[string]any{"memory": 64, "memorySwap": -1}))
	if u.MemorySwap != -1 || u.RestartPolicy.Name != "no" {
		t.Errorf("update %+v", u)
	}
}

func TestContainerCheck(t *testing.T) {
	r := &containerResource{}
	check := func(m map[string]any) []framework.CheckFailure {
		_, fails, err := r.Check(context.Background(), framework.CheckRequest{Common: common("c"), News: props(m)})
		if err != nil {
			t.Fatal(err)
		}
		return fails
	}
	if fails := check(labHostMap()); len(fails) != 0 {
		t.Fatalf("lab host rejected: %v", fails)
	}
	cases := map[string]map[string]any{
		"image":                           {"name": "x"},
		"restart":                         {"image": "i", "restart": "sometimes"},
		"maxRetryCount":                   {"image": "i", "restart": "always", "maxRetryCount": 2},
		"cgroupnsMode":                    {"image": "i", "cgroupnsMode": "shared"},
		"attach":                          {"image": "i", "attach": true},
		"uploads":                         {"image": "i", "uploads": []any{map[string]any{"file": "/a", "content": "x"}}},
		"bogusProp":                       {"image": "i", "bogusProp": 1},
		"networksAdvanced[0].ipv4Address": {"image": "i", "networksAdvanced": []any{map[string]any{"name": "n", "ipv4Address": "10.0.0.1/24"}}},
		"networksAdvanced[1].name":        {"image": "i", "networksAdvanced": []any{map[string]any{"name": "n"}, map[string]any{"name": "n"}}},
		"networkMode":                     {"image": "i", "networkMode": "host", "networksAdvanced": []any{map[string]any{"name": "n"}}},
		"volumes[0].containerPath":        {"image": "i", "volumes": []any{map[string]any{"hostPath": "/x"}}},
		"volumes[0].hostPath":             {"image": "i", "volumes": []any{map[string]any{"hostPath": "rel", "containerPath": "/x"}}},
		"volumes[0]":                      {"image": "i", "volumes": []any{map[string]any{"hostPath": "/a", "volumeName": "v", "containerPath": "/x"}}},
		"mounts[0].type":                  {"image": "i", "mounts": []any{map[string]any{"type": "npipe", "target": "/x"}}},
		"ports[0].internal":               {"image": "i", "ports": []any{map[string]any{"internal": 0}}},
		"healthcheck.interval":            {"image": "i", "healthcheck": map[string]any{"tests": []any{"CMD", "true"}, "interval": "often"}},
		"cpus":                            {"image": "i", "cpus": "lots"},
		"envs[0]":                         {"image": "i", "envs": []any{"=x"}},
		"name":                            {"image": "i", "name": "-bad"},
	}
	for prop, m := range cases {
		if fails := check(m); !hasFailure(fails, prop) {
			t.Errorf("%s: expected a failure, got %v", prop, failuresOn(fails))
		}
	}
	// attach = false is the default and fine; unknown image is fine during preview.
	unknown := pmap{"image": framework.Unknown(), "attach": resource.NewProperty(false)}
	if _, fails, _ := r.Check(context.Background(), framework.CheckRequest{Common: common("c"), News: unknown}); len(fails) != 0 {
		t.Errorf("unknowns rejected: %v", fails)
	}
}

func labHostMap() map[string]any {
	return labHost().Mappable()
}

func TestContainerDiff(t *testing.T) {
	r := &containerResource{}
	ctx := context.Background()
	old := labHost()
	diff := func(olds, news pmap, state pmap) framework.DiffResult {
		d, err := r.Diff(ctx, framework.DiffRequest{Common: common("c"), OldInputs: olds, OldState: state, News: news})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	with := func(k string, v any) pmap {
		m := framework.Copy(old)
		if v == nil {
			delete(m, key(k))
		} else {
			m[key(k)] = resource.NewPropertyValue(v)
		}
		return m
	}
	if d := diff(old, framework.Copy(old), old); d.Changed {
		t.Fatalf("same inputs: %+v", d)
	}
	if d := diff(old, with("mustRun", true), old); d.Changed {
		t.Errorf("mustRun default counted: %+v", d)
	}
	if d := diff(old, with("privileged", false), old); d.Changed {
		t.Errorf("privileged default counted: %+v", d)
	}
	d := diff(old, with("restart", "always"), old)
	if !d.Changed || len(d.Replaces) != 0 {
		t.Errorf("restart should update in place: %+v", d)
	}
	d = diff(old, with("memory", 1024), old)
	if !d.Changed || len(d.Replaces) != 0 {
		t.Errorf("memory change should update in place: %+v", d)
	}
	d = diff(old, with("memory", nil), old)
	if !reflect.DeepEqual(d.Replaces, []string{"memory"}) {
		t.Errorf("removing a memory limit must replace: %+v", d)
	}
	d = diff(old, with("mustRun", false), old)
	if !d.Changed || len(d.Replaces) != 0 {
		t.Errorf("mustRun is provider-only: %+v", d)
	}
	for _, k := range []string{"envs", "image", "tmpfs", "capabilities", "networksAdvanced", "volumes", "cgroupnsMode", "hostname", "securityOpts", "labels", "command"} {
		d = diff(old, with(k, nil), old)
		if !reflect.DeepEqual(d.Replaces, []string{k}) || !d.DeleteBeforeReplace {
			t.Errorf("%s change must replace (delete first): %+v", k, d)
		}
	}
	// An unknown new value counts as a change.
	unk := framework.Copy(old)
	unk["image"] = framework.Unknown()
	if d = diff(old, unk, old); !reflect.DeepEqual(d.Replaces, []string{"image"}) {
		t.Errorf("unknown image: %+v", d)
	}
	// A stopped container (exitCode in the refreshed state) is replaced when it must run ...
	state := framework.Copy(old)
	state["exitCode"] = resource.NewProperty(137.0)
	d = diff(old, framework.Copy(old), state)
	if !d.Changed || !reflect.DeepEqual(d.Replaces, []string{"exitCode"}) || !d.DeleteBeforeReplace {
		t.Errorf("stopped container: %+v", d)
	}
	// ... and left alone when it need not.
	if d = diff(with("mustRun", false), with("mustRun", false), state); d.Changed {
		t.Errorf("stopped container with mustRun=false: %+v", d)
	}
}

func TestReflectContainer(t *testing.T) {
	in := labHost()
	in["envs"] = framework.Secret(in["envs"])
	cj := &dockerapi.ContainerJSON{
		ID: "abc", Name: "/node1-renamed",
		State:      &dockerapi.ContainerState{Running: true},
		HostConfig: &dockerapi.HostConfig{RestartPolicy: dockerapi.RestartPolicy{Name: "always"}, Memory: 512 * mb},
		NetworkSettings: &dockerapi.NetworkSettings{Networks: map[string]*dockerapi.EndpointSettings{
			"lab": {IPAddress: "10.9.0.99", NetworkID: "n1"},
		}},
	}
	out := reflectContainer(in, cj)
	if str(out, "name") != "node1-renamed" || str(out, "restart") != "always" {
		t.Errorf("name/restart not reflected: %v %v", out["name"], out["restart"])
	}
	if _, ok := framework.GetNumber(out, "memory"); !ok || framework.IntOr(out, "memory", 0) != 512 {
		t.Errorf("unchanged memory altered: %v", out["memory"])
	}
	nets := objList(out, "networksAdvanced")
	if len(nets) != 1 || str(nets[0], "name") != "lab" || str(nets[0], "ipv4Address") != "10.9.0.99" {
		t.Errorf("networks %v", nets)
	}
	if !out["envs"].IsSecret() {
		t.Errorf("secret lost")
	}
	// A stopped container has no address: that is not drift.
	cj.State.Running = false
	cj.NetworkSettings.Networks["lab"].IPAddress = ""
	cj.NetworkSettings.Networks["mgmt"] = &dockerapi.EndpointSettings{}
	out = reflectContainer(labHost(), cj)
	if _, changed := out["networksAdvanced"]; !changed || str(objList(out, "networksAdvanced")[0], "ipv4Address") != "10.9.0.11" {
		t.Errorf("stopped container networks %v", out["networksAdvanced"])
	}
	if !framework.Copy(labHost())["networksAdvanced"].DeepEquals(out["networksAdvanced"]) {
		t.Errorf("networks changed for a stopped container: %v", out["networksAdvanced"])
	}
}

func TestContainerOutputs(t *testing.T) {
	in := props(map[string]any{"name": "c", "image": "i", "hostname": "given"})
	init := true
	timeout := 10
	cj := &dockerapi.ContainerJSON{
		Name:   "/c",
		State:  &dockerapi.ContainerState{Running: false, ExitCode: 3},
		Config: &dockerapi.ContainerConfig{Hostname: "given", Cmd: []string{"sh"}, StopTimeout: &timeout},
		HostConfig: &dockerapi.HostConfig{Init: &init, IpcMode: "private", ShmSize: 64 * mb, Runtime: "runc",
			LogConfig: &dockerapi.LogConfig{Type: "json-file"}},
		NetworkSettings: &dockerapi.NetworkSettings{Bridge: "", Networks: map[string]*dockerapi.EndpointSettings{
			"b": {IPAddress: "10.0.1.2", IPPrefixLen: 24, Gateway: "10.0.1.1", MacAddress: "02:42:0a:00:01:02"},
			"a": {IPAddress: "10.0.0.2", IPPrefixLen: 24},
		}},
	}
	out := containerOutputs(in, cj)
	if framework.IntOr(out, "exitCode", -1) != 3 {
		t.Errorf("exitCode %v", out["exitCode"])
	}
	if !reflect.DeepEqual(strs(out, "command"), []string{"sh"}) || str(out, "ipcMode") != "private" ||
		framework.IntOr(out, "shmSize", 0) != 64 || str(out, "logDriver") != "json-file" || !framework.BoolOr(out, "init", false) ||
		framework.IntOr(out, "stopTimeout", 0) != 10 {
		t.Errorf("computed outputs %v", out)
	}
	nd := objList(out, "networkDatas")
	if len(nd) != 2 || str(nd[0], "networkName") != "a" || str(nd[1], "gateway") != "10.0.1.1" || framework.IntOr(nd[1], "ipPrefixLength", 0) != 24 {
		t.Errorf("networkDatas %v", nd)
	}
	cj.State.Running = true
	if _, ok := containerOutputs(in, cj)["exitCode"]; ok {
		t.Errorf("running container with exitCode")
	}
}

func TestNormalize(t *testing.T) {
	m := props(map[string]any{"a": []any{}, "b": map[string]any{}, "c": map[string]any{"adds": []any{}}, "restart": "no", "x": "y"})
	n := normalize(m, containerDefaults)
	if len(n) != 1 || str(n, "x") != "y" {
		t.Errorf("normalize %v", n)
	}
}

func TestSettings(t *testing.T) {
	env := map[string]string{}
	getenv = func(k string) string { return env[k] }
	defer func() { getenv = os.Getenv }()

	s, err := parseSettings(pmap{})
	if err != nil || s.host != dockerapi.DefaultHost {
		t.Fatalf("default %+v %v", s, err)
	}
	env["DOCKER_HOST"] = "tcp://127.0.0.1:2375"
	if s, _ = parseSettings(pmap{}); s.host != "tcp://127.0.0.1:2375" {
		t.Errorf("DOCKER_HOST ignored: %q", s.host)
	}
	if s, _ = parseSettings(props(map[string]any{"host": "unix:///x.sock"})); s.host != "unix:///x.sock" {
		t.Errorf("host setting ignored: %q", s.host)
	}
	delete(env, "DOCKER_HOST")

	if _, err := parseSettings(props(map[string]any{"host": "ssh://me@h"})); err == nil {
		t.Error("ssh accepted")
	}
	if _, err := parseSettings(props(map[string]any{"context": "remote"})); err == nil {
		t.Error("context accepted")
	}
	if _, err := parseSettings(props(map[string]any{"certMaterial": "x"})); err == nil || !strings.Contains(err.Error(), "together") {
		t.Errorf("cert without key: %v", err)
	}
	if s, err = parseSettings(props(map[string]any{"disableDockerDaemonCheck": "true", "registryAuth": "[{\"address\":\"r\"}]"})); err != nil || !s.disableDaemonCheck || !s.ignoredRegistryAuth {
		t.Errorf("JSON-encoded settings: %+v %v", s, err)
	}

	// certPath reads ca.pem, cert.pem and key.pem; bad PEM is reported.
	dir := t.TempDir()
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("not pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := parseSettings(props(map[string]any{"host": "tcp://h:2376", "certPath": dir})); err == nil {
		t.Error("bad PEM files accepted")
	}
	if _, err := parseSettings(props(map[string]any{"host": "tcp://h:2376", "certPath": filepath.Join(dir, "none")})); err == nil {
		t.Error("missing certPath accepted")
	}

	// checkConfig keeps the TLS material secret and reports problems against the property.
	out, fails, err := checkConfig(context.Background(), nil, props(map[string]any{"host": "tcp://h:2376", "keyMaterial": "k"}))
	if err != nil || !out["keyMaterial"].IsSecret() || !hasFailure(fails, "certMaterial") {
		t.Errorf("checkConfig %v %v %v", out, fails, err)
	}
	_, fails, _ = checkConfig(context.Background(), nil, props(map[string]any{"host": "bogus"}))
	if !hasFailure(fails, "host") {
		t.Errorf("bad host: %v", fails)
	}
	if _, fails, _ = checkConfig(context.Background(), nil, pmap{"host": framework.Unknown()}); len(fails) != 0 {
		t.Errorf("unknown host judged: %v", fails)
	}
}

func TestUnknownConfigBlocksClient(t *testing.T) {
	c := newClients()
	if err := c.configure(context.Background(), pmap{"host": framework.Unknown()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.get(context.Background()); err == nil || !strings.Contains(err.Error(), "not known yet") {
		t.Errorf("unknown config: %v", err)
	}
}
