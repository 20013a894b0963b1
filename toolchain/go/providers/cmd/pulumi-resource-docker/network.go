package main

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"consul-swarm/toolchain/providers/internal/dockerapi"
	"consul-swarm/toolchain/providers/internal/framework"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

const networkToken = "docker:index/network:Network"

// networkDefaults are the values that mean the same as leaving a Network input out.
var networkDefaults = defaults{
	"driver":         resource.NewProperty("bridge"),
	"ipamDriver":     resource.NewProperty("default"),
	"internal":       resource.NewProperty(false),
	"attachable":     resource.NewProperty(false),
	"ingress":        resource.NewProperty(false),
	"ipv6":           resource.NewProperty(false),
	"checkDuplicate": resource.NewProperty(false),
}

// networkResource implements docker:index/network:Network. Docker cannot change a network in
// place, so every input change replaces it.
type networkResource struct {
	framework.Base
	c *clients
}

func (r *networkResource) Check(_ context.Context, req framework.CheckRequest) (pmap, []framework.CheckFailure, error) {
	news, err := autoname(req, 255)
	if err != nil {
		return nil, nil, err
	}
	fails := checkLabels(news, "labels")
	for i, pool := range objList(news, "ipamConfigs") {
		fails = append(fails, checkPool(fmt.Sprintf("ipamConfigs[%d]", i), pool)...)
	}
	return news, fails, nil
}

// checkPool validates one IPAM pool: CIDRs parse, and the gateway and IP range lie in the subnet.
func checkPool(path string, pool pmap) []framework.CheckFailure {
	var fails []framework.CheckFailure
	fail := func(prop, reason string) {
		fails = append(fails, framework.CheckFailure{Property: path + "." + prop, Reason: reason})
	}
	var subnet netip.Prefix
	haveSubnet := false
	if s, ok := framework.GetString(pool, "subnet"); ok && s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			fail("subnet", fmt.Sprintf("%q is not a CIDR subnet: %v", s, err))
		} else if p.Masked() != p {
			fail("subnet", fmt.Sprintf("%q has host bits set; did you mean %s?", s, p.Masked()))
		} else {
			subnet, haveSubnet = p, true
		}
	}
	if g, ok := framework.GetString(pool, "gateway"); ok && g != "" {
		a, err := netip.ParseAddr(g)
		switch {
		case err != nil:
			fail("gateway", fmt.Sprintf("%q is not an IP address", g))
		case haveSubnet && !subnet.Contains(a):
			fail("gateway", fmt.Sprintf("gateway %s is outside subnet %s", g, subnet))
		}
	}
	if rng, ok := framework.GetString(pool, "ipRange"); ok && rng != "" {
		p, err := netip.ParsePrefix(rng)
		switch {
		case err != nil:
			fail("ipRange", fmt.Sprintf("%q is not a CIDR range", rng))
		case haveSubnet && (!subnet.Contains(p.Addr()) || p.Bits() < subnet.Bits()):
			fail("ipRange", fmt.Sprintf("range %s is outside subnet %s", rng, subnet))
		}
	}
	return fails
}

// networkReplaces is true for every Network input except checkDuplicate (which has no effect
// on a created network).
func networkReplaces(k string) bool { return k != "checkDuplicate" }

func (r *networkResource) Diff(_ context.Context, req framework.DiffRequest) (framework.DiffResult, error) {
	olds := req.OldInputsOrState()
	return diffWith(olds, req.News, networkDefaults, networkReplaces, func(framework.DiffResult) bool {
		// A replacement with the same name, or with any fixed subnet, cannot exist beside the old
		// network (Docker refuses duplicate names and overlapping pools): delete it first.
		oldName, _ := framework.GetString(olds, "name")
		newName, known := framework.GetString(req.News, "name")
		return !known || oldName == newName || len(objList(req.News, "ipamConfigs")) > 0
	}), nil
}

// Update is reached only when checkDuplicate alone changed, which has no effect on a created
// network: record the new inputs.
func (r *networkResource) Update(_ context.Context, req framework.UpdateRequest) (pmap, error) {
	out := framework.Copy(req.OldState)
	for k, v := range req.News {
		out[k] = v
	}
	if !framework.Has(req.News, "checkDuplicate") {
		delete(out, key("checkDuplicate"))
	}
	return out, nil
}

// networkRequest builds the create body from checked inputs.
func networkRequest(in pmap) dockerapi.NetworkCreateRequest {
	req := dockerapi.NetworkCreateRequest{
		Name:           str(in, "name"),
		CheckDuplicate: true,
		Driver:         str(in, "driver"),
		Internal:       framework.BoolOr(in, "internal", false),
		Attachable:     framework.BoolOr(in, "attachable", false),
		Ingress:        framework.BoolOr(in, "ingress", false),
		EnableIPv6:     framework.BoolOr(in, "ipv6", false),
		Options:        smap(in, "options"),
		Labels:         labelsToMap(in, "labels"),
		IPAM: &dockerapi.IPAM{
			Driver:  framework.StringOr(in, "ipamDriver", "default"),
			Options: smap(in, "ipamOptions"),
			Config:  []dockerapi.IPAMPool{},
		},
	}
	for _, p := range objList(in, "ipamConfigs") {
		req.IPAM.Config = append(req.IPAM.Config, dockerapi.IPAMPool{
			Subnet:     str(p, "subnet"),
			Gateway:    str(p, "gateway"),
			IPRange:    str(p, "ipRange"),
			AuxAddress: smap(p, "auxAddress"),
		})
	}
	return req
}

// networkOutputs is the state: the inputs plus what Docker reports.
func networkOutputs(in pmap, n *dockerapi.Network) pmap {
	out := framework.Copy(in)
	out[key("name")] = resource.NewProperty(n.Name)
	out[key("driver")] = resource.NewProperty(n.Driver)
	out[key("internal")] = resource.NewProperty(n.Internal)
	out[key("attachable")] = resource.NewProperty(n.Attachable)
	out[key("ingress")] = resource.NewProperty(n.Ingress)
	out[key("ipv6")] = resource.NewProperty(n.EnableIPv6)
	out[key("scope")] = resource.NewProperty(n.Scope)
	if n.IPAM.Driver != "" {
		out[key("ipamDriver")] = resource.NewProperty(n.IPAM.Driver)
	}
	out[key("ipamConfigs")] = poolsValue(n.IPAM.Config)
	return out
}

func poolsValue(pools []dockerapi.IPAMPool) resource.PropertyValue {
	arr := []resource.PropertyValue{}
	for _, p := range pools {
		m := resource.PropertyMap{}
		if p.Subnet != "" {
			m["subnet"] = resource.NewProperty(p.Subnet)
		}
		if p.Gateway != "" {
			m["gateway"] = resource.NewProperty(p.Gateway)
		}
		if p.IPRange != "" {
			m["ipRange"] = resource.NewProperty(p.IPRange)
		}
		if len(p.AuxAddress) > 0 {
			m["auxAddress"] = strMap(p.AuxAddress)
		}
		arr = append(arr, resource.NewProperty(m))
	}
	return resource.NewProperty(arr)
}

func (r *networkResource) Create(ctx context.Context, req framework.CreateRequest) (string, pmap, error) {
	if req.Preview {
		out := framework.Copy(req.Inputs)
		for _, k := range []string{"driver", "internal", "ipamConfigs", "scope", "ipamDriver"} {
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
	body := networkRequest(req.Inputs)
	id, err := cl.NetworkCreate(ctx, body)
	if err != nil {
		return "", nil, fmt.Errorf("creating network %q: %w", body.Name, err)
	}
	n, err := cl.NetworkInspect(ctx, id)
	if err != nil {
		return "", nil, &framework.PartialError{ID: id, Outputs: framework.Copy(req.Inputs),
			Reasons: []string{fmt.Sprintf("network %q was created but cannot be read: %v", body.Name, err)}}
	}
	return id, networkOutputs(req.Inputs, n), nil
}

func (r *networkResource) Read(ctx context.Context, req framework.ReadRequest) (framework.ReadResult, error) {
	cl, err := r.c.get(ctx)
	if err != nil {
		return framework.ReadResult{}, err
	}
	n, err := cl.NetworkInspect(ctx, req.ID)
	if dockerapi.IsNotFound(err) {
		return framework.ReadResult{}, nil
	}
	if err != nil {
		return framework.ReadResult{}, err
	}
	if n.ID != req.ID && n.Name != req.ID {
		// Inspect matched a different network by id prefix or name: ours is gone.
		return framework.ReadResult{}, nil
	}
	inputs := req.Inputs
	if len(inputs) == 0 {
		inputs = networkImportInputs(n)
	}
	// A network cannot change after creation; only its existence can.
	return framework.ReadResult{ID: n.ID, Inputs: inputs, Outputs: networkOutputs(inputs, n)}, nil
}

// networkImportInputs rebuilds inputs from a network that was not created by this program.
func networkImportInputs(n *dockerapi.Network) pmap {
	in := pmap{"name": resource.NewProperty(n.Name)}
	if n.Driver != "" && n.Driver != "bridge" {
		in["driver"] = resource.NewProperty(n.Driver)
	}
	if n.Internal {
		in["internal"] = resource.NewProperty(true)
	}
	if n.Attachable {
		in["attachable"] = resource.NewProperty(true)
	}
	if n.Ingress {
		in["ingress"] = resource.NewProperty(true)
	}
	if n.EnableIPv6 {
		in["ipv6"] = resource.NewProperty(true)
	}
	if n.IPAM.Driver != "" && n.IPAM.Driver != "default" {
		in["ipamDriver"] = resource.NewProperty(n.IPAM.Driver)
	}
	if len(n.IPAM.Config) > 0 {
		in["ipamConfigs"] = poolsValue(n.IPAM.Config)
	}
	if len(n.Labels) > 0 {
		in["labels"] = mapToLabels(n.Labels)
	}
	if len(n.Options) > 0 {
		in["options"] = strMap(n.Options)
	}
	return in
}

func (r *networkResource) Delete(ctx context.Context, req framework.DeleteRequest) error {
	cl, err := r.c.get(ctx)
	if err != nil {
		return err
	}
	// Containers removed just before (auto-remove, or a parallel delete) may still hold an
	// endpoint for a moment: retry conflicts for a while.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := cl.NetworkRemove(ctx, req.ID)
		switch {
		case err == nil, dockerapi.IsNotFound(err):
			return nil
		case dockerapi.IsConflict(err) || isActiveEndpoints(err):
			if time.Now().After(deadline) {
				return fmt.Errorf("removing network %s: %w (containers outside this stack may still use it)", req.ID, err)
			}
		default:
			return fmt.Errorf("removing network %s: %w", req.ID, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// isActiveEndpoints recognises the daemon's "network has active endpoints" answer, which older
// daemons send as a 403 or 500 rather than a 409.
func isActiveEndpoints(err error) bool {
	return err != nil && containsFold(err.Error(), "active endpoints")
}
