package dockerapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// VolumeCreateRequest is the body of POST /volumes/create.
type VolumeCreateRequest struct {
	Name       string            `json:"Name,omitempty"`
	Driver     string            `json:"Driver,omitempty"`
	DriverOpts map[string]string `json:"DriverOpts,omitempty"`
	Labels     map[string]string `json:"Labels,omitempty"`
}

// Volume is the answer of GET /volumes/{name} and POST /volumes/create.
type Volume struct {
	Name       string            `json:"Name"`
	Driver     string            `json:"Driver"`
	Mountpoint string            `json:"Mountpoint"`
	CreatedAt  string            `json:"CreatedAt"`
	Labels     map[string]string `json:"Labels"`
	Scope      string            `json:"Scope"`
	Options    map[string]string `json:"Options"`
}

// VolumeCreate creates a volume. Docker answers with the existing volume when one of that
// name already exists with the same driver; callers that must not adopt one inspect first.
func (c *Client) VolumeCreate(ctx context.Context, req VolumeCreateRequest) (*Volume, error) {
	var out Volume
	if err := c.do(ctx, request{method: http.MethodPost, path: "/volumes/create", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// VolumeInspect reads a volume by name.
func (c *Client) VolumeInspect(ctx context.Context, name string) (*Volume, error) {
	var out Volume
	if err := c.do(ctx, request{method: http.MethodGet, path: "/volumes/" + escape(name)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// VolumeRemove removes a volume. A volume in use gives an error for which IsConflict is true.
func (c *Client) VolumeRemove(ctx context.Context, name string, force bool) error {
	q := url.Values{"force": {strconv.FormatBool(force)}}
	return c.do(ctx, request{method: http.MethodDelete, path: "/volumes/" + escape(name), query: q}, nil)
}
