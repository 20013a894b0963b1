package dockerapi

import (
	"context"
	"net/http"
	"net/url"
)

// IPAMPool is one address pool of a network.
type IPAMPool struct {
	Subnet     string            `json:"Subnet,omitempty"`
	IPRange    string            `json:"IPRange,omitempty"`
	Gateway    string            `json:"Gateway,omitempty"`
	AuxAddress map[string]string `json:"AuxiliaryAddresses,omitempty"`
}

// IPAM is a network's address management settings.
type IPAM struct {
	Driver  string            `json:"Driver,omitempty"`
	Config  []IPAMPool        `json:"Config"`
	Options map[string]string `json:"Options,omitempty"`
}

// NetworkCreateRequest is the body of POST /networks/create.
type NetworkCreateRequest struct {
	Name           string            `json:"Name"`
	CheckDuplicate bool              `json:"CheckDuplicate"`
	Driver         string            `json:"Driver,omitempty"`
	Internal       bool              `json:"Internal,omitempty"`
	Attachable     bool              `json:"Attachable,omitempty"`
	Ingress        bool              `json:"Ingress,omitempty"`
	EnableIPv6     bool              `json:"EnableIPv6,omitempty"`
	IPAM           *IPAM             `json:"IPAM,omitempty"`
	Options        map[string]string `json:"Options,omitempty"`
	Labels         map[string]string `json:"Labels,omitempty"`
}

// Network is the answer of GET /networks/{id}.
type Network struct {
	Name       string                     `json:"Name"`
	ID         string                     `json:"Id"`
	Scope      string                     `json:"Scope"`
	Driver     string                     `json:"Driver"`
	EnableIPv6 bool                       `json:"EnableIPv6"`
	IPAM       IPAM                       `json:"IPAM"`
	Internal   bool                       `json:"Internal"`
	Attachable bool                       `json:"Attachable"`
	Ingress    bool                       `json:"Ingress"`
	Containers map[string]NetworkEndpoint `json:"Containers"`
	Options    map[string]string          `json:"Options"`
	Labels     map[string]string          `json:"Labels"`
}

// NetworkEndpoint is a container's attachment as listed by network inspect.
type NetworkEndpoint struct {
	Name        string `json:"Name"`
	EndpointID  string `json:"EndpointID"`
	MacAddress  string `json:"MacAddress"`
	IPv4Address string `json:"IPv4Address"`
	IPv6Address string `json:"IPv6Address"`
}

// NetworkCreate creates a network and returns its id.
func (c *Client) NetworkCreate(ctx context.Context, req NetworkCreateRequest) (string, error) {
	var out struct {
		ID      string `json:"Id"`
		Warning string `json:"Warning"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/networks/create", body: req}, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// NetworkInspect reads a network by id or name. A missing network gives an error for which
// IsNotFound is true.
func (c *Client) NetworkInspect(ctx context.Context, id string) (*Network, error) {
	var out Network
	q := url.Values{"verbose": {"false"}}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/networks/" + escape(id), query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NetworkRemove removes a network.
func (c *Client) NetworkRemove(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/networks/" + escape(id)}, nil)
}

// NetworkConnect attaches a container to a network with the given endpoint settings.
func (c *Client) NetworkConnect(ctx context.Context, network, container string, ep *EndpointSettings) error {
	body := struct {
		Container      string            `json:"Container"`
		EndpointConfig *EndpointSettings `json:"EndpointConfig,omitempty"`
	}{container, ep}
	return c.do(ctx, request{method: http.MethodPost, path: "/networks/" + escape(network) + "/connect", body: body}, nil)
}

// NetworkDisconnect detaches a container from a network.
func (c *Client) NetworkDisconnect(ctx context.Context, network, container string, force bool) error {
	body := struct {
		Container string `json:"Container"`
		Force     bool   `json:"Force"`
	}{container, force}
	return c.do(ctx, request{method: http.MethodPost, path: "/networks/" + escape(network) + "/disconnect", body: body}, nil)
}
