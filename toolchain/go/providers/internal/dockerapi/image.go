package dockerapi

import (
	"context"
	"net/http"
	"strings"
)

// Image is the answer of GET /images/{name}/json (the fields the provider reads).
type Image struct {
	ID          string           `json:"Id"`
	RepoTags    []string         `json:"RepoTags"`
	RepoDigests []string         `json:"RepoDigests"`
	Created     string           `json:"Created"`
	Config      *ContainerConfig `json:"Config"`
	Os          string           `json:"Os"`
	Arch        string           `json:"Architecture"`
	Size        int64            `json:"Size"`
}

// ImageInspect reads a local image by name, name:tag, digest or id. A missing image gives an
// error for which IsNotFound is true. Image references keep their '/' (Docker routes
// /images/{name}/json with a multi-segment name).
func (c *Client) ImageInspect(ctx context.Context, ref string) (*Image, error) {
	var out Image
	segs := strings.Split(ref, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/images/" + strings.Join(segs, "/") + "/json"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
