package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"consul-swarm/toolchain/providers/internal/dockerapi"
	"consul-swarm/toolchain/providers/internal/framework"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

const volumeToken = "docker:index/volume:Volume"

var volumeDefaults = defaults{
	"driver": resource.NewProperty("local"),
}

// volumeResource implements docker:index/volume:Volume. The id is the volume's name. Docker
// cannot change a volume in place, so every input change replaces it.
type volumeResource struct {
	framework.Base
	c *clients
}

func (r *volumeResource) Check(_ context.Context, req framework.CheckRequest) (pmap, []framework.CheckFailure, error) {
	news, err := autoname(req, 255)
	if err != nil {
		return nil, nil, err
	}
	fails := checkLabels(news, "labels")
	fails = append(fails, unsupported(news, volumeDefaults, "cluster")...)
	driver := framework.StringOr(news, "driver", "local")
	if n, ok := framework.GetString(news, "name"); ok && driver == "local" && !validVolumeName(n) {
		fails = append(fails, framework.CheckFailure{Property: "name",
			Reason: fmt.Sprintf("%q is not a valid volume name: use letters, digits, '_', '.', '-', starting with a letter or digit", n)})
	}
	return news, fails, nil
}

// validVolumeName applies the daemon's rule for local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+.
func validVolumeName(n string) bool {
	if len(n) < 2 {
		return false
	}
	for i, c := range n {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return false
		}
		if !alnum && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func (r *volumeResource) Diff(_ context.Context, req framework.DiffRequest) (framework.DiffResult, error) {
	olds := req.OldInputsOrState()
	return diffWith(olds, req.News, volumeDefaults, func(string) bool { return true }, func(framework.DiffResult) bool {
		oldName, _ := framework.GetString(olds, "name")
		newName, known := framework.GetString(req.News, "name")
		return !known || oldName == newName
	}), nil
}

func volumeOutputs(in pmap, v *dockerapi.Volume) pmap {
	out := framework.Copy(in)
	out[key("name")] = resource.NewProperty(v.Name)
	out[key("driver")] = resource.NewProperty(v.Driver)
	out[key("mountpoint")] = resource.NewProperty(v.Mountpoint)
	return out
}

func (r *volumeResource) Create(ctx context.Context, req framework.CreateRequest) (string, pmap, error) {
	if req.Preview {
		out := framework.Copy(req.Inputs)
		out[key("mountpoint")] = framework.Unknown()
		if !framework.Has(out, "driver") {
			out[key("driver")] = framework.Unknown()
		}
		return "", out, nil
	}
	cl, err := r.c.get(ctx)
	if err != nil {
		return "", nil, err
	}
	name := str(req.Inputs, "name")
	// Docker's create returns an existing volume of that name instead of failing. Adopting it
	// would let a later delete destroy data this stack never made, so refuse.
	if _, err := cl.VolumeInspect(ctx, name); err == nil {
		return "", nil, fmt.Errorf("volume %q already exists; remove it, choose another name, or import it (pulumi import %s NAME %s)", name, volumeToken, name)
	} else if !dockerapi.IsNotFound(err) {
		return "", nil, err
	}
	v, err := cl.VolumeCreate(ctx, dockerapi.VolumeCreateRequest{
		Name:       name,
		Driver:     str(req.Inputs, "driver"),
		DriverOpts: smap(req.Inputs, "driverOpts"),
		Labels:     labelsToMap(req.Inputs, "labels"),
	})
	if err != nil {
		return "", nil, fmt.Errorf("creating volume %q: %w", name, err)
	}
	return v.Name, volumeOutputs(req.Inputs, v), nil
}

func (r *volumeResource) Read(ctx context.Context, req framework.ReadRequest) (framework.ReadResult, error) {
	cl, err := r.c.get(ctx)
	if err != nil {
		return framework.ReadResult{}, err
	}
	v, err := cl.VolumeInspect(ctx, req.ID)
	if dockerapi.IsNotFound(err) {
		return framework.ReadResult{}, nil
	}
	if err != nil {
		return framework.ReadResult{}, err
	}
	inputs := req.Inputs
	if len(inputs) == 0 {
		inputs = pmap{"name": resource.NewProperty(v.Name)}
		if v.Driver != "" && v.Driver != "local" {
			inputs["driver"] = resource.NewProperty(v.Driver)
		}
		if len(v.Labels) > 0 {
			inputs["labels"] = mapToLabels(v.Labels)
		}
		if len(v.Options) > 0 {
			inputs["driverOpts"] = strMap(v.Options)
		}
	}
	return framework.ReadResult{ID: v.Name, Inputs: inputs, Outputs: volumeOutputs(inputs, v)}, nil
}

func (r *volumeResource) Delete(ctx context.Context, req framework.DeleteRequest) error {
	cl, err := r.c.get(ctx)
	if err != nil {
		return err
	}
	// A container deleted in the same step may release the volume a moment later.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := cl.VolumeRemove(ctx, req.ID, false)
		switch {
		case err == nil, dockerapi.IsNotFound(err):
			return nil
		case dockerapi.IsConflict(err):
			if time.Now().After(deadline) {
				return fmt.Errorf("removing volume %s: %w (a container outside this stack may still use it)", req.ID, err)
			}
		default:
			return fmt.Errorf("removing volume %s: %w", req.ID, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
