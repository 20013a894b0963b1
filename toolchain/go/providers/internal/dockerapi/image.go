package dockerapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
	if err := c.do(ctx, request{method: http.MethodGet, path: "/images/" + escapeRef(ref) + "/json"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ImageImport creates an image from a tar stream of a root filesystem (docker import). repo and
// tag name the result; changes are Dockerfile instructions applied to it, e.g.
// `CMD ["/bin/sh"]`. It returns the daemon's progress text.
func (c *Client) ImageImport(ctx context.Context, rootfs io.Reader, repo, tag string, changes []string) (string, error) {
	q := url.Values{"fromSrc": {"-"}, "repo": {repo}}
	if tag != "" {
		q.Set("tag", tag)
	}
	for _, ch := range changes {
		q.Add("changes", ch)
	}
	var out strings.Builder
	err := c.do(ctx, request{method: http.MethodPost, path: "/images/create", query: q, raw: rootfs, contentType: "application/x-tar", noTimeout: true}, &rawText{&out})
	if err != nil {
		return "", err
	}
	return out.String(), streamError(out.String())
}

// ImageRemove removes an image by name or id.
func (c *Client) ImageRemove(ctx context.Context, ref string, force bool) error {
	q := url.Values{"force": {strconv.FormatBool(force)}}
	return c.do(ctx, request{method: http.MethodDelete, path: "/images/" + escapeRef(ref), query: q}, nil)
}

// streamError finds an {"error": "..."} message in a JSON progress stream.
func streamError(stream string) error {
	dec := json.NewDecoder(strings.NewReader(stream))
	for {
		var m struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&m); err != nil {
			return nil
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}

// escapeRef escapes each '/'-separated part of an image reference.
func escapeRef(ref string) string {
	segs := strings.Split(ref, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	return strings.Join(segs, "/")
}
