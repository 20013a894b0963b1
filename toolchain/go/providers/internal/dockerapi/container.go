package dockerapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ContainerConfig is the portable part of a container's configuration (the top level of the
// create body, and "Config" in inspect).
type ContainerConfig struct {
	Hostname     string              `json:"Hostname,omitempty"`
	Domainname   string              `json:"Domainname,omitempty"`
	User         string              `json:"User,omitempty"`
	Tty          bool                `json:"Tty,omitempty"`
	OpenStdin    bool                `json:"OpenStdin,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Image        string              `json:"Image"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	StopTimeout  *int                `json:"StopTimeout,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Healthcheck  *HealthConfig       `json:"Healthcheck,omitempty"`
}

// HealthConfig is a container's health check. Durations are in nanoseconds.
type HealthConfig struct {
	Test          []string `json:"Test,omitempty"`
	Interval      int64    `json:"Interval,omitempty"`
	Timeout       int64    `json:"Timeout,omitempty"`
	StartPeriod   int64    `json:"StartPeriod,omitempty"`
	StartInterval int64    `json:"StartInterval,omitempty"`
	Retries       int      `json:"Retries,omitempty"`
}

// Mount is one entry of HostConfig.Mounts.
type Mount struct {
	Type          string         `json:"Type"`
	Source        string         `json:"Source,omitempty"`
	Target        string         `json:"Target"`
	ReadOnly      bool           `json:"ReadOnly,omitempty"`
	BindOptions   *BindOptions   `json:"BindOptions,omitempty"`
	VolumeOptions *VolumeOptions `json:"VolumeOptions,omitempty"`
	TmpfsOptions  *TmpfsOptions  `json:"TmpfsOptions,omitempty"`
}

// BindOptions are the options of a bind mount.
type BindOptions struct {
	Propagation string `json:"Propagation,omitempty"`
}

// VolumeOptions are the options of a volume mount.
type VolumeOptions struct {
	NoCopy       bool              `json:"NoCopy,omitempty"`
	Labels       map[string]string `json:"Labels,omitempty"`
	DriverConfig *MountDriver      `json:"DriverConfig,omitempty"`
	Subpath      string            `json:"Subpath,omitempty"`
}

// MountDriver names a volume driver and its options.
type MountDriver struct {
	Name    string            `json:"Name,omitempty"`
	Options map[string]string `json:"Options,omitempty"`
}

// TmpfsOptions are the options of a tmpfs mount.
type TmpfsOptions struct {
	SizeBytes int64  `json:"SizeBytes,omitempty"`
	Mode      uint32 `json:"Mode,omitempty"`
}

// RestartPolicy says when the daemon restarts a container.
type RestartPolicy struct {
	Name              string `json:"Name,omitempty"`
	MaximumRetryCount int    `json:"MaximumRetryCount,omitempty"`
}

// PortBinding is one host side of a published port.
type PortBinding struct {
	HostIP   string `json:"HostIp,omitempty"`
	HostPort string `json:"HostPort,omitempty"`
}

// Ulimit is one resource limit.
type Ulimit struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// DeviceMapping maps a host device into the container.
type DeviceMapping struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// LogConfig is the logging driver and its options.
type LogConfig struct {
	Type   string            `json:"Type,omitempty"`
	Config map[string]string `json:"Config,omitempty"`
}

// HostConfig is the host-dependent part of a container's configuration.
type HostConfig struct {
	Binds             []string                 `json:"Binds,omitempty"`
	Mounts            []Mount                  `json:"Mounts,omitempty"`
	NetworkMode       string                   `json:"NetworkMode,omitempty"`
	PortBindings      map[string][]PortBinding `json:"PortBindings,omitempty"`
	RestartPolicy     RestartPolicy            `json:"RestartPolicy"`
	AutoRemove        bool                     `json:"AutoRemove,omitempty"`
	VolumesFrom       []string                 `json:"VolumesFrom,omitempty"`
	CapAdd            []string                 `json:"CapAdd,omitempty"`
	CapDrop           []string                 `json:"CapDrop,omitempty"`
	CgroupnsMode      string                   `json:"CgroupnsMode,omitempty"`
	DNS               []string                 `json:"Dns,omitempty"`
	DNSOptions        []string                 `json:"DnsOptions,omitempty"`
	DNSSearch         []string                 `json:"DnsSearch,omitempty"`
	ExtraHosts        []string                 `json:"ExtraHosts,omitempty"`
	GroupAdd          []string                 `json:"GroupAdd,omitempty"`
	IpcMode           string                   `json:"IpcMode,omitempty"`
	PidMode           string                   `json:"PidMode,omitempty"`
	Privileged        bool                     `json:"Privileged,omitempty"`
	PublishAllPorts   bool                     `json:"PublishAllPorts,omitempty"`
	ReadonlyRootfs    bool                     `json:"ReadonlyRootfs,omitempty"`
	SecurityOpt       []string                 `json:"SecurityOpt,omitempty"`
	StorageOpt        map[string]string        `json:"StorageOpt,omitempty"`
	Tmpfs             map[string]string        `json:"Tmpfs,omitempty"`
	UsernsMode        string                   `json:"UsernsMode,omitempty"`
	ShmSize           int64                    `json:"ShmSize,omitempty"`
	Sysctls           map[string]string        `json:"Sysctls,omitempty"`
	Runtime           string                   `json:"Runtime,omitempty"`
	CgroupParent      string                   `json:"CgroupParent,omitempty"`
	Memory            int64                    `json:"Memory,omitempty"`
	MemoryReservation int64                    `json:"MemoryReservation,omitempty"`
	MemorySwap        int64                    `json:"MemorySwap,omitempty"`
	NanoCPUs          int64                    `json:"NanoCpus,omitempty"`
	CPUShares         int64                    `json:"CpuShares,omitempty"`
	CPUPeriod         int64                    `json:"CpuPeriod,omitempty"`
	CPUQuota          int64                    `json:"CpuQuota,omitempty"`
	CpusetCpus        string                   `json:"CpusetCpus,omitempty"`
	Devices           []DeviceMapping          `json:"Devices,omitempty"`
	Ulimits           []Ulimit                 `json:"Ulimits,omitempty"`
	LogConfig         *LogConfig               `json:"LogConfig,omitempty"`
	Init              *bool                    `json:"Init,omitempty"`
}

// EndpointIPAMConfig fixes a container's addresses on one network.
type EndpointIPAMConfig struct {
	IPv4Address string `json:"IPv4Address,omitempty"`
	IPv6Address string `json:"IPv6Address,omitempty"`
}

// EndpointSettings is a container's attachment to one network (create and connect bodies,
// and NetworkSettings.Networks in inspect).
type EndpointSettings struct {
	IPAMConfig          *EndpointIPAMConfig `json:"IPAMConfig,omitempty"`
	Aliases             []string            `json:"Aliases,omitempty"`
	MacAddress          string              `json:"MacAddress,omitempty"`
	NetworkID           string              `json:"NetworkID,omitempty"`
	EndpointID          string              `json:"EndpointID,omitempty"`
	Gateway             string              `json:"Gateway,omitempty"`
	IPAddress           string              `json:"IPAddress,omitempty"`
	IPPrefixLen         int                 `json:"IPPrefixLen,omitempty"`
	IPv6Gateway         string              `json:"IPv6Gateway,omitempty"`
	GlobalIPv6Address   string              `json:"GlobalIPv6Address,omitempty"`
	GlobalIPv6PrefixLen int                 `json:"GlobalIPv6PrefixLen,omitempty"`
}

// NetworkingConfig is the networks part of the create body.
type NetworkingConfig struct {
	EndpointsConfig map[string]*EndpointSettings `json:"EndpointsConfig,omitempty"`
}

// ContainerCreateRequest is the body of POST /containers/create.
type ContainerCreateRequest struct {
	ContainerConfig
	HostConfig       *HostConfig       `json:"HostConfig,omitempty"`
	NetworkingConfig *NetworkingConfig `json:"NetworkingConfig,omitempty"`
}

// ContainerState is the runtime state in inspect.
type ContainerState struct {
	Status     string `json:"Status"`
	Running    bool   `json:"Running"`
	Paused     bool   `json:"Paused"`
	Restarting bool   `json:"Restarting"`
	OOMKilled  bool   `json:"OOMKilled"`
	Dead       bool   `json:"Dead"`
	Pid        int    `json:"Pid"`
	ExitCode   int    `json:"ExitCode"`
	Error      string `json:"Error"`
	StartedAt  string `json:"StartedAt"`
	FinishedAt string `json:"FinishedAt"`
	Health     *struct {
		Status        string `json:"Status"`
		FailingStreak int    `json:"FailingStreak"`
	} `json:"Health,omitempty"`
}

// MountPoint is one mount as reported by inspect.
type MountPoint struct {
	Type        string `json:"Type"`
	Name        string `json:"Name"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Driver      string `json:"Driver"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
}

// NetworkSettings is the networking part of inspect.
type NetworkSettings struct {
	Bridge   string                       `json:"Bridge"`
	Ports    map[string][]PortBinding     `json:"Ports"`
	Networks map[string]*EndpointSettings `json:"Networks"`
}

// ContainerJSON is the answer of GET /containers/{id}/json.
type ContainerJSON struct {
	ID              string           `json:"Id"`
	Created         string           `json:"Created"`
	Path            string           `json:"Path"`
	Args            []string         `json:"Args"`
	State           *ContainerState  `json:"State"`
	Image           string           `json:"Image"`
	Name            string           `json:"Name"`
	RestartCount    int              `json:"RestartCount"`
	Driver          string           `json:"Driver"`
	HostConfig      *HostConfig      `json:"HostConfig"`
	Config          *ContainerConfig `json:"Config"`
	Mounts          []MountPoint     `json:"Mounts"`
	NetworkSettings *NetworkSettings `json:"NetworkSettings"`
}

// ContainerCreate creates a container (without starting it) and returns its id and the
// daemon's warnings.
func (c *Client) ContainerCreate(ctx context.Context, name string, req *ContainerCreateRequest) (string, []string, error) {
	var q url.Values
	if name != "" {
		q = url.Values{"name": {name}}
	}
	var out struct {
		ID       string   `json:"Id"`
		Warnings []string `json:"Warnings"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/containers/create", query: q, body: req}, &out); err != nil {
		return "", nil, err
	}
	return out.ID, out.Warnings, nil
}

// ContainerStart starts a created or stopped container; starting a running one succeeds.
func (c *Client) ContainerStart(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/containers/" + escape(id) + "/start"}, nil)
}

// ContainerInspect reads a container by id or name.
func (c *Client) ContainerInspect(ctx context.Context, id string) (*ContainerJSON, error) {
	var out ContainerJSON
	if err := c.do(ctx, request{method: http.MethodGet, path: "/containers/" + escape(id) + "/json"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ContainerStop stops a container, waiting up to timeout for it to exit before it is killed
// (nil means the container's own stop timeout). Stopping a stopped container succeeds.
func (c *Client) ContainerStop(ctx context.Context, id string, timeout *time.Duration) error {
	var q url.Values
	if timeout != nil {
		q = url.Values{"t": {strconv.Itoa(int(timeout.Seconds()))}}
	}
	return c.do(ctx, request{method: http.MethodPost, path: "/containers/" + escape(id) + "/stop", query: q, noTimeout: true}, nil)
}

// ContainerRemove removes a container; removeVolumes also removes its anonymous volumes and
// force kills a running one first.
func (c *Client) ContainerRemove(ctx context.Context, id string, removeVolumes, force bool) error {
	q := url.Values{"v": {strconv.FormatBool(removeVolumes)}, "force": {strconv.FormatBool(force)}}
	return c.do(ctx, request{method: http.MethodDelete, path: "/containers/" + escape(id), query: q}, nil)
}

// ContainerWait blocks until the container meets condition ("not-running", "next-exit" or
// "removed") and returns its exit code.
func (c *Client) ContainerWait(ctx context.Context, id, condition string) (int, error) {
	var q url.Values
	if condition != "" {
		q = url.Values{"condition": {condition}}
	}
	var out struct {
		StatusCode int `json:"StatusCode"`
		Error      *struct {
			Message string `json:"Message"`
		} `json:"Error"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/containers/" + escape(id) + "/wait", query: q, noTimeout: true}, &out); err != nil {
		return 0, err
	}
	return out.StatusCode, nil
}

// UpdateConfig is the body of POST /containers/{id}/update: the settings Docker can change on
// a live container.
type UpdateConfig struct {
	RestartPolicy     *RestartPolicy `json:"RestartPolicy,omitempty"`
	Memory            int64          `json:"Memory,omitempty"`
	MemoryReservation int64          `json:"MemoryReservation,omitempty"`
	MemorySwap        int64          `json:"MemorySwap,omitempty"`
	CPUShares         int64          `json:"CpuShares,omitempty"`
	CPUPeriod         int64          `json:"CpuPeriod,omitempty"`
	CPUQuota          int64          `json:"CpuQuota,omitempty"`
	CpusetCpus        string         `json:"CpusetCpus,omitempty"`
}

// ContainerUpdate changes a live container's restart policy and resource limits.
func (c *Client) ContainerUpdate(ctx context.Context, id string, upd *UpdateConfig) ([]string, error) {
	var out struct {
		Warnings []string `json:"Warnings"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/containers/" + escape(id) + "/update", body: upd}, &out); err != nil {
		return nil, err
	}
	return out.Warnings, nil
}
