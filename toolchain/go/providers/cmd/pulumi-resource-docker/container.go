package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"consul-swarm/toolchain/providers/internal/dockerapi"
	"consul-swarm/toolchain/providers/internal/framework"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

const containerToken = "docker:index/container:Container"

// containerResource implements docker:index/container:Container.
//
// Replacement: every input except the in-place ones (restart policy, memory and CPU limits) and
// the provider-only ones (mustRun, start, destroyGraceSeconds, ...) replaces the container,
// deleting the old one first (its name and fixed addresses would collide otherwise).
//
// Refresh: a container that no longer exists reads as gone. A container that is not running
// while mustRun and start are true keeps its state with exitCode set, and the next diff replaces
// it. Renames and network (dis)connections made outside Pulumi show up as changed inputs.
type containerResource struct {
	framework.Base
	c *clients
	// settle is how long Create waits after start before checking the container still runs.
	settle time.Duration
}

func (r *containerResource) Check(_ context.Context, req framework.CheckRequest) (pmap, []framework.CheckFailure, error) {
	news, err := autoname(req, 255)
	if err != nil {
		return nil, nil, err
	}
	return news, checkContainer(news), nil
}

// containerReplaces says whether a change of key k (from olds to news) needs a new container.
func containerReplaces(olds, news pmap) func(string) bool {
	nn := normalize(news, containerDefaults)
	return func(k string) bool {
		if containerProviderOnly[k] {
			return false
		}
		if containerInPlace[k] {
			// docker update can set a limit but not remove one: removing it replaces.
			_, still := nn[key(k)]
			return !still && k != "restart" && k != "maxRetryCount"
		}
		return true
	}
}

// mustBeRunning is true when the inputs ask for a running container.
func mustBeRunning(in pmap) bool {
	return framework.BoolOr(in, "mustRun", true) && framework.BoolOr(in, "start", true)
}

func (r *containerResource) Diff(ctx context.Context, req framework.DiffRequest) (framework.DiffResult, error) {
	olds := req.OldInputsOrState()
	d := diffWith(olds, req.News, containerDefaults, containerReplaces(olds, req.News), func(framework.DiffResult) bool { return true })
	// A container found stopped by the last refresh (exitCode in the state) must be replaced when
	// it has to run.
	if code, stopped := framework.GetNumber(req.OldState, "exitCode"); stopped && mustBeRunning(req.News) {
		if len(d.Replaces) == 0 {
			req.Host.Log(ctx, framework.Warning, req.URN,
				fmt.Sprintf("container %s is not running (exit code %d) and mustRun is true: it will be replaced", str(req.OldState, "name"), int(code)))
		}
		d.Changed = true
		d.Replaces = appendUnique(d.Replaces, "exitCode")
		if d.Detailed == nil {
			d.Detailed = map[string]framework.DiffKind{}
		}
		d.Detailed["exitCode"] = framework.DeleteReplace
		d.DeleteBeforeReplace = true
	}
	return d, nil
}

func appendUnique(l []string, s string) []string {
	for _, e := range l {
		if e == s {
			return l
		}
	}
	return append(l, s)
}

// containerComputed are outputs Docker fills in when the inputs leave them out.
var containerComputed = []string{
	"hostname", "command", "entrypoints", "init", "ipcMode", "logDriver", "runtime", "shmSize", "securityOpts",
}

func (r *containerResource) Create(ctx context.Context, req framework.CreateRequest) (string, pmap, error) {
	in := req.Inputs
	if req.Preview {
		out := framework.Copy(in)
		out[key("bridge")] = framework.Unknown()
		out[key("networkDatas")] = framework.Unknown()
		for _, k := range containerComputed {
			if !framework.Has(out, k) {
				out[key(k)] = framework.Unknown()
			}
		}
		return "", out, nil
	}
	cl, err := r.c.get(ctx)
	if err != nil {
		return "", nil, err
	}
	name := str(in, "name")
	image := str(in, "image")
	if _, err := cl.ImageInspect(ctx, image); dockerapi.IsNotFound(err) {
		return "", nil, fmt.Errorf("container %s: image %q is not on the Docker host; this provider never pulls images: build, load or import it there first", name, image)
	} else if err != nil {
		return "", nil, fmt.Errorf("container %s: %w", name, err)
	}

	body, later := containerRequest(in)
	id, warnings, err := cl.ContainerCreate(ctx, name, body)
	if err != nil {
		if dockerapi.IsConflict(err) {
			return "", nil, fmt.Errorf("container %s: a container of that name already exists (remove it or import it): %w", name, err)
		}
		return "", nil, fmt.Errorf("creating container %s: %w", name, err)
	}
	for _, w := range warnings {
		req.Host.Log(ctx, framework.Warning, req.URN, "docker: "+w)
	}
	// From here on a failure removes the half-made container, so a retry starts clean.
	cleanup := func(cause error) error {
		rmErr := cl.ContainerRemove(context.WithoutCancel(ctx), id, true, true)
		if rmErr != nil && !dockerapi.IsNotFound(rmErr) {
			return fmt.Errorf("%w (and removing the half-made container %s failed: %v)", cause, id, rmErr)
		}
		return cause
	}
	for _, n := range later {
		if err := cl.NetworkConnect(ctx, n.network, id, n.endpoint); err != nil {
			return "", nil, cleanup(fmt.Errorf("container %s: connecting network %s: %w", name, n.network, err))
		}
	}
	if framework.BoolOr(in, "start", true) {
		if err := cl.ContainerStart(ctx, id); err != nil {
			return "", nil, cleanup(fmt.Errorf("starting container %s: %w", name, err))
		}
	}
	cj, err := r.settleAfterStart(ctx, cl, id, in)
	if err != nil {
		var pe *framework.PartialError
		if errors.As(err, &pe) {
			return "", nil, err
		}
		return "", nil, cleanup(err)
	}
	if cj == nil {
		// Started with rm = true and already gone: that is what the program asked for.
		out := framework.Copy(in)
		out[key("exitCode")] = resource.NewProperty(0.0)
		return id, out, nil
	}
	return id, containerOutputs(in, cj), nil
}

// settleAfterStart checks a freshly started container: with mustRun it must still run after a
// short while; with wait it must become healthy. A container that stopped is kept (so its logs
// can be read) and reported as a partial create: the next update replaces it.
func (r *containerResource) settleAfterStart(ctx context.Context, cl *dockerapi.Client, id string, in pmap) (*dockerapi.ContainerJSON, error) {
	name := str(in, "name")
	started := framework.BoolOr(in, "start", true)
	if started && framework.BoolOr(in, "mustRun", true) && r.settle > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(r.settle):
		}
	}
	cj, err := cl.ContainerInspect(ctx, id)
	if dockerapi.IsNotFound(err) && framework.BoolOr(in, "rm", false) {
		if mustBeRunning(in) {
			return nil, fmt.Errorf("container %s exited right after start and was removed (rm = true); run the image by hand to see why", name)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading container %s: %w", name, err)
	}
	if started && framework.BoolOr(in, "mustRun", true) && !isRunning(cj) {
		out := containerOutputs(in, cj)
		return nil, &framework.PartialError{ID: id, Outputs: out, Reasons: []string{
			fmt.Sprintf("container %s exited right after start with code %d%s; see `docker logs %s`",
				name, cj.State.ExitCode, stateError(cj), name),
		}}
	}
	if started && framework.BoolOr(in, "wait", false) {
		timeout := time.Duration(framework.IntOr(in, "waitTimeout", 60)) * time.Second
		deadline := time.Now().Add(timeout)
		for {
			if cj.State == nil || cj.State.Health == nil {
				return nil, &framework.PartialError{ID: id, Outputs: containerOutputs(in, cj), Reasons: []string{
					fmt.Sprintf("container %s has no health check, so wait = true cannot work; add a healthcheck", name)}}
			}
			if cj.State.Health.Status == "healthy" {
				break
			}
			if !isRunning(cj) || time.Now().After(deadline) {
				return nil, &framework.PartialError{ID: id, Outputs: containerOutputs(in, cj), Reasons: []string{
					fmt.Sprintf("container %s did not become healthy within %s (health: %s)", name, timeout, cj.State.Health.Status)}}
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Second):
			}
			if cj, err = cl.ContainerInspect(ctx, id); err != nil {
				return nil, fmt.Errorf("reading container %s: %w", name, err)
			}
		}
	}
	return cj, nil
}

func isRunning(cj *dockerapi.ContainerJSON) bool {
	return cj.State != nil && (cj.State.Running || cj.State.Restarting)
}

func stateError(cj *dockerapi.ContainerJSON) string {
	if cj.State != nil && cj.State.Error != "" {
		return " (" + cj.State.Error + ")"
	}
	return ""
}

// containerOutputs is the state: the inputs plus what Docker reports.
func containerOutputs(in pmap, cj *dockerapi.ContainerJSON) pmap {
	out := framework.Copy(in)
	out[key("name")] = resource.NewProperty(strings.TrimPrefix(cj.Name, "/"))
	delete(out, key("exitCode"))
	if !isRunning(cj) && cj.State != nil {
		out[key("exitCode")] = resource.NewProperty(float64(cj.State.ExitCode))
	}
	if ns := cj.NetworkSettings; ns != nil {
		out[key("bridge")] = resource.NewProperty(ns.Bridge)
		out[key("networkDatas")] = networkDatas(ns.Networks)
		if ports := objList(in, "ports"); len(ports) > 0 {
			out[key("ports")] = portsWithBindings(ports, ns.Ports)
		}
	}
	setIfAbsent := func(k string, v resource.PropertyValue) {
		if !framework.Has(in, k) {
			out[key(k)] = v
		}
	}
	if c := cj.Config; c != nil {
		setIfAbsent("hostname", resource.NewProperty(c.Hostname))
		setIfAbsent("command", strList(c.Cmd))
		setIfAbsent("entrypoints", strList(c.Entrypoint))
		if c.StopSignal != "" {
			setIfAbsent("stopSignal", resource.NewProperty(c.StopSignal))
		}
		if c.StopTimeout != nil {
			setIfAbsent("stopTimeout", resource.NewProperty(float64(*c.StopTimeout)))
		}
	}
	if h := cj.HostConfig; h != nil {
		initOn := h.Init != nil && *h.Init
		setIfAbsent("init", resource.NewProperty(initOn))
		setIfAbsent("ipcMode", resource.NewProperty(h.IpcMode))
		setIfAbsent("runtime", resource.NewProperty(h.Runtime))
		setIfAbsent("shmSize", resource.NewProperty(float64(h.ShmSize/mb)))
		setIfAbsent("securityOpts", strList(h.SecurityOpt))
		if h.LogConfig != nil {
			setIfAbsent("logDriver", resource.NewProperty(h.LogConfig.Type))
		}
	}
	return out
}

// networkDatas lists the container's attachments, sorted by network name.
func networkDatas(nets map[string]*dockerapi.EndpointSettings) resource.PropertyValue {
	names := make([]string, 0, len(nets))
	for n := range nets {
		names = append(names, n)
	}
	sort.Strings(names)
	arr := []resource.PropertyValue{}
	for _, n := range names {
		e := nets[n]
		if e == nil {
			continue
		}
		arr = append(arr, resource.NewProperty(resource.PropertyMap{
			"networkName":            resource.NewProperty(n),
			"ipAddress":              resource.NewProperty(e.IPAddress),
			"ipPrefixLength":         resource.NewProperty(float64(e.IPPrefixLen)),
			"gateway":                resource.NewProperty(e.Gateway),
			"globalIpv6Address":      resource.NewProperty(e.GlobalIPv6Address),
			"globalIpv6PrefixLength": resource.NewProperty(float64(e.GlobalIPv6PrefixLen)),
			"ipv6Gateway":            resource.NewProperty(e.IPv6Gateway),
			"macAddress":             resource.NewProperty(e.MacAddress),
		}))
	}
	return resource.NewProperty(arr)
}

// portsWithBindings fills in the host port Docker chose for ports given without one.
func portsWithBindings(ports []pmap, actual map[string][]dockerapi.PortBinding) resource.PropertyValue {
	arr := []resource.PropertyValue{}
	for _, p := range ports {
		q := framework.Copy(p)
		proto := framework.StringOr(p, "protocol", "tcp")
		q[key("protocol")] = resource.NewProperty(proto)
		q[key("ip")] = resource.NewProperty(framework.StringOr(p, "ip", "0.0.0.0"))
		if !framework.Has(p, "external") {
			for _, b := range actual[fmt.Sprintf("%d/%s", framework.IntOr(p, "internal", 0), proto)] {
				if n, err := strconv.Atoi(b.HostPort); err == nil {
					q[key("external")] = resource.NewProperty(float64(n))
					break
				}
			}
		}
		arr = append(arr, resource.NewProperty(q))
	}
	return resource.NewProperty(arr)
}

func (r *containerResource) Read(ctx context.Context, req framework.ReadRequest) (framework.ReadResult, error) {
	cl, err := r.c.get(ctx)
	if err != nil {
		return framework.ReadResult{}, err
	}
	cj, err := cl.ContainerInspect(ctx, req.ID)
	if dockerapi.IsNotFound(err) {
		return framework.ReadResult{}, nil
	}
	if err != nil {
		return framework.ReadResult{}, err
	}
	if cj.ID != req.ID {
		// Inspect matched another container by name or id prefix: ours is gone.
		return framework.ReadResult{}, nil
	}
	inputs := req.Inputs
	if len(inputs) == 0 {
		inputs = containerImportInputs(cj)
	} else {
		inputs = reflectContainer(inputs, cj)
	}
	return framework.ReadResult{ID: cj.ID, Inputs: inputs, Outputs: containerOutputs(inputs, cj)}, nil
}

// reflectContainer returns the inputs with the settings that can change on a live container
// (name, restart policy, limits, network attachments) replaced by what Docker reports, so the
// next diff sees changes made outside Pulumi.
func reflectContainer(in pmap, cj *dockerapi.ContainerJSON) pmap {
	out := framework.Copy(in)
	set := func(k string, v resource.PropertyValue) {
		out[key(k)] = framework.SecretIf(v, framework.IsSecret(in, k))
	}
	if n := strings.TrimPrefix(cj.Name, "/"); n != "" && n != str(in, "name") {
		set("name", resource.NewProperty(n))
	}
	if h := cj.HostConfig; h != nil {
		rp := h.RestartPolicy.Name
		if rp == "" {
			rp = "no"
		}
		if rp != framework.StringOr(in, "restart", "no") {
			set("restart", resource.NewProperty(rp))
		}
		if h.RestartPolicy.MaximumRetryCount != framework.IntOr(in, "maxRetryCount", 0) {
			set("maxRetryCount", resource.NewProperty(float64(h.RestartPolicy.MaximumRetryCount)))
		}
		limits := []struct {
			k      string
			actual int64
			scale  int64
		}{
			{"memory", h.Memory, mb}, {"memoryReservation", h.MemoryReservation, mb},
			{"cpuShares", h.CPUShares, 1}, {"cpuPeriod", h.CPUPeriod, 1}, {"cpuQuota", h.CPUQuota, 1},
		}
		for _, l := range limits {
			if framework.Has(in, l.k) && int64Of(in, l.k, l.scale) != l.actual {
				set(l.k, resource.NewProperty(float64(l.actual/l.scale)))
			}
		}
		if framework.Has(in, "cpuSet") && str(in, "cpuSet") != h.CpusetCpus {
			set("cpuSet", resource.NewProperty(h.CpusetCpus))
		}
	}
	if nets := objList(in, "networksAdvanced"); len(nets) > 0 && cj.NetworkSettings != nil {
		changed := false
		var kept []resource.PropertyValue
		for _, n := range nets {
			ep := findEndpoint(cj.NetworkSettings.Networks, str(n, "name"))
			if ep == nil {
				changed = true // disconnected outside Pulumi
				continue
			}
			m := framework.Copy(n)
			// A stopped container holds no address, so only a running one can show a different one.
			if want := str(n, "ipv4Address"); want != "" && isRunning(cj) && ep.IPAddress != want {
				m[key("ipv4Address")] = resource.NewProperty(ep.IPAddress)
				changed = true
			}
			kept = append(kept, resource.NewProperty(m))
		}
		if changed {
			if kept == nil {
				kept = []resource.PropertyValue{}
			}
			set("networksAdvanced", resource.NewProperty(kept))
		}
	}
	return out
}

// findEndpoint finds a network attachment by network name or id (or id prefix).
func findEndpoint(nets map[string]*dockerapi.EndpointSettings, nameOrID string) *dockerapi.EndpointSettings {
	if ep, ok := nets[nameOrID]; ok && ep != nil {
		return ep
	}
	if len(nameOrID) >= 12 {
		for _, ep := range nets {
			if ep != nil && strings.HasPrefix(ep.NetworkID, nameOrID) {
				return ep
			}
		}
	}
	return nil
}

// containerImportInputs rebuilds the main inputs of a container this program did not create.
func containerImportInputs(cj *dockerapi.ContainerJSON) pmap {
	in := pmap{"name": resource.NewProperty(strings.TrimPrefix(cj.Name, "/"))}
	if cj.Config != nil {
		in["image"] = resource.NewProperty(cj.Config.Image)
	}
	if h := cj.HostConfig; h != nil {
		if h.RestartPolicy.Name != "" && h.RestartPolicy.Name != "no" {
			in["restart"] = resource.NewProperty(h.RestartPolicy.Name)
		}
		if h.Privileged {
			in["privileged"] = resource.NewProperty(true)
		}
	}
	if ns := cj.NetworkSettings; ns != nil && len(ns.Networks) > 0 {
		var names []string
		for n := range ns.Networks {
			if n != "bridge" {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		var arr []resource.PropertyValue
		for _, n := range names {
			m := resource.PropertyMap{"name": resource.NewProperty(n)}
			if ep := ns.Networks[n]; ep != nil && ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address != "" {
				m["ipv4Address"] = resource.NewProperty(ep.IPAMConfig.IPv4Address)
			}
			arr = append(arr, resource.NewProperty(m))
		}
		if len(arr) > 0 {
			in["networksAdvanced"] = resource.NewProperty(arr)
		}
	}
	return in
}

func (r *containerResource) Update(ctx context.Context, req framework.UpdateRequest) (pmap, error) {
	if req.Preview {
		out := framework.Copy(req.OldState)
		for k, v := range req.News {
			out[k] = v
		}
		return out, nil
	}
	cl, err := r.c.get(ctx)
	if err != nil {
		return nil, err
	}
	olds := req.OldInputs
	if len(olds) == 0 {
		olds = req.OldState
	}
	changed := framework.ChangedKeys(normalize(olds, containerDefaults), normalize(req.News, containerDefaults))
	needUpdate := false
	for _, k := range changed {
		if containerInPlace[k] {
			needUpdate = true
		}
	}
	name := str(req.News, "name")
	if needUpdate {
		warnings, err := cl.ContainerUpdate(ctx, req.ID, updateRequest(req.News))
		if err != nil {
			return nil, fmt.Errorf("updating container %s: %w", name, err)
		}
		for _, w := range warnings {
			req.Host.Log(ctx, framework.Warning, req.URN, "docker: "+w)
		}
	}
	cj, err := cl.ContainerInspect(ctx, req.ID)
	if err != nil {
		return nil, fmt.Errorf("reading container %s: %w", name, err)
	}
	if framework.BoolOr(req.News, "start", true) && !isRunning(cj) && !framework.BoolOr(olds, "start", true) {
		// start went from false to true.
		if err := cl.ContainerStart(ctx, req.ID); err != nil {
			return nil, fmt.Errorf("starting container %s: %w", name, err)
		}
		if cj, err = r.settleAfterStart(ctx, cl, req.ID, req.News); err != nil {
			return nil, err
		}
		if cj == nil {
			return containerOutputs(req.News, &dockerapi.ContainerJSON{Name: name}), nil
		}
	}
	return containerOutputs(req.News, cj), nil
}

func (r *containerResource) Delete(ctx context.Context, req framework.DeleteRequest) error {
	cl, err := r.c.get(ctx)
	if err != nil {
		return err
	}
	in := req.OldInputs
	if len(in) == 0 {
		in = req.State
	}
	if g, ok := framework.GetInt(in, "destroyGraceSeconds"); ok && g > 0 {
		grace := time.Duration(g) * time.Second
		if err := cl.ContainerStop(ctx, req.ID, &grace); err != nil && !dockerapi.IsNotFound(err) {
			return fmt.Errorf("stopping container %s: %w", req.ID, err)
		}
	}
	// Force removal kills a running container; v removes its anonymous volumes.
	removeVolumes := framework.BoolOr(in, "removeVolumes", true)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := cl.ContainerRemove(ctx, req.ID, removeVolumes, true)
		switch {
		case err == nil, dockerapi.IsNotFound(err):
			return nil
		case dockerapi.IsConflict(err):
			// "removal already in progress" (rm = true): wait for it to finish.
			if time.Now().After(deadline) {
				return fmt.Errorf("removing container %s: %w", req.ID, err)
			}
		default:
			return fmt.Errorf("removing container %s: %w", req.ID, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
