package main

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"consul-swarm/toolchain/providers/internal/dockerapi"
	"consul-swarm/toolchain/providers/internal/framework"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// This file turns Container inputs into a Docker create request and validates them. It does
// not talk to the daemon, so it is covered by unit tests.

const mb = 1024 * 1024

// containerDefaults are the values that mean the same as leaving a Container input out.
var containerDefaults = defaults{
	"attach":          resource.NewProperty(false),
	"logs":            resource.NewProperty(false),
	"privileged":      resource.NewProperty(false),
	"publishAllPorts": resource.NewProperty(false),
	"readOnly":        resource.NewProperty(false),
	"rm":              resource.NewProperty(false),
	"stdinOpen":       resource.NewProperty(false),
	"tty":             resource.NewProperty(false),
	"wait":            resource.NewProperty(false),
	"mustRun":         resource.NewProperty(true),
	"start":           resource.NewProperty(true),
	"removeVolumes":   resource.NewProperty(true),
	"restart":         resource.NewProperty("no"),
	"networkMode":     resource.NewProperty("bridge"),
	"maxRetryCount":   resource.NewProperty(0.0),
	"waitTimeout":     resource.NewProperty(60.0),
	"containerReadRefreshTimeoutMilliseconds": resource.NewProperty(15000.0),
}

// containerInPlace are the inputs Docker can change on a live container (docker update).
var containerInPlace = map[string]bool{
	"restart": true, "maxRetryCount": true,
	"memory": true, "memorySwap": true, "memoryReservation": true,
	"cpuShares": true, "cpuSet": true, "cpuPeriod": true, "cpuQuota": true,
}

// containerProviderOnly are the inputs that only steer this provider (no Docker setting).
var containerProviderOnly = map[string]bool{
	"mustRun": true, "start": true, "destroyGraceSeconds": true, "removeVolumes": true,
	"containerReadRefreshTimeoutMilliseconds": true, "wait": true, "waitTimeout": true,
}

// containerUnsupported are inputs of @pulumi/docker 4.11.2 this provider does not implement;
// Check rejects them when they carry a non-default value.
var containerUnsupported = []string{"attach", "logs", "uploads", "gpus"}

// containerInputs lists every Container input property of the SDK, so that Check can reject
// misspelled or unknown ones instead of ignoring them.
var containerInputs = map[string]bool{}

func init() {
	for _, k := range []string{
		"attach", "capabilities", "cgroupParent", "cgroupnsMode", "command",
		"containerReadRefreshTimeoutMilliseconds", "cpuPeriod", "cpuQuota", "cpuSet", "cpuShares",
		"cpus", "destroyGraceSeconds", "devices", "dns", "dnsOpts", "dnsSearches", "domainname",
		"entrypoints", "envs", "gpus", "groupAdds", "healthcheck", "hostname", "hosts", "image",
		"init", "ipcMode", "labels", "logDriver", "logOpts", "logs", "maxRetryCount", "memory",
		"memoryReservation", "memorySwap", "mounts", "mustRun", "name", "networkMode",
		"networksAdvanced", "pidMode", "ports", "privileged", "publishAllPorts", "readOnly",
		"removeVolumes", "restart", "rm", "runtime", "securityOpts", "shmSize", "start",
		"stdinOpen", "stopSignal", "stopTimeout", "storageOpts", "sysctls", "tmpfs", "tty",
		"ulimits", "uploads", "user", "usernsMode", "volumes", "wait", "waitTimeout", "workingDir",
	} {
		containerInputs[k] = true
	}
}

// checkContainer validates checked Container inputs (after autonaming). Unknown values are
// skipped: they are checked again when known.
func checkContainer(in pmap) []framework.CheckFailure {
	var fails []framework.CheckFailure
	fail := func(prop, format string, args ...any) {
		fails = append(fails, framework.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, args...)})
	}
	for _, k := range framework.SortedKeys(in) {
		if !containerInputs[k] && !strings.HasPrefix(k, "__") {
			fail(k, "unknown Container property %q", k)
		}
	}
	if !framework.Has(in, "image") {
		fail("image", "image is required")
	} else if s, ok := framework.GetString(in, "image"); ok && strings.TrimSpace(s) == "" {
		fail("image", "image must not be empty")
	}
	if n, ok := framework.GetString(in, "name"); ok && !validContainerName(n) {
		fail("name", "%q is not a valid container name: use letters, digits, '_', '.', '-', starting with a letter or digit", n)
	}
	fails = append(fails, unsupported(in, containerDefaults, containerUnsupported...)...)
	fails = append(fails, checkLabels(in, "labels")...)

	restart, restartKnown := framework.GetString(in, "restart")
	if restartKnown {
		switch restart {
		case "no", "on-failure", "always", "unless-stopped":
		default:
			fail("restart", "restart must be one of no, on-failure, always, unless-stopped (got %q)", restart)
		}
	}
	if n, ok := framework.GetInt(in, "maxRetryCount"); ok && n != 0 {
		if n < 0 {
			fail("maxRetryCount", "maxRetryCount must not be negative")
		}
		if restartKnown && restart != "on-failure" {
			fail("maxRetryCount", "maxRetryCount needs restart = \"on-failure\"")
		}
	}
	if m, ok := framework.GetString(in, "cgroupnsMode"); ok && m != "" && m != "private" && m != "host" {
		fail("cgroupnsMode", "cgroupnsMode must be \"private\" or \"host\" (got %q)", m)
	}
	if c, ok := framework.GetString(in, "cpus"); ok && c != "" {
		if f, err := strconv.ParseFloat(c, 64); err != nil || f <= 0 {
			fail("cpus", "cpus must be a positive number such as \"1.5\" (got %q)", c)
		}
	}
	for _, k := range []string{"memory", "memoryReservation", "shmSize", "cpuShares", "cpuPeriod", "cpuQuota", "stopTimeout", "destroyGraceSeconds", "waitTimeout"} {
		if v, ok := framework.GetNumber(in, k); ok && v < 0 {
			fail(k, "%s must not be negative", k)
		}
	}
	if v, ok := framework.GetNumber(in, "memorySwap"); ok && v < -1 {
		fail("memorySwap", "memorySwap must be -1 (unlimited) or a size in MB")
	}
	for _, k := range []string{"envs"} {
		for i, e := range strs(in, k) {
			if e == "" || strings.HasPrefix(e, "=") {
				fail(fmt.Sprintf("%s[%d]", k, i), "environment entries have the form KEY=VALUE")
			}
		}
	}

	nets := objList(in, "networksAdvanced")
	seenNet := map[string]bool{}
	for i, n := range nets {
		p := fmt.Sprintf("networksAdvanced[%d]", i)
		if framework.IsUnknown(n, "name") {
			continue
		}
		name, ok := framework.GetString(n, "name")
		if !ok || name == "" {
			fail(p+".name", "a network needs a name or id")
			continue
		}
		if seenNet[name] {
			fail(p+".name", "network %q is listed twice", name)
		}
		seenNet[name] = true
		if a, ok := framework.GetString(n, "ipv4Address"); ok && a != "" {
			if ip, err := netip.ParseAddr(a); err != nil || !ip.Is4() {
				fail(p+".ipv4Address", "%q is not an IPv4 address (give the address without a prefix length)", a)
			}
		}
		if a, ok := framework.GetString(n, "ipv6Address"); ok && a != "" {
			if ip, err := netip.ParseAddr(a); err != nil || !ip.Is6() {
				fail(p+".ipv6Address", "%q is not an IPv6 address", a)
			}
		}
	}
	if mode, ok := framework.GetString(in, "networkMode"); ok && len(nets) > 0 {
		if mode == "host" || mode == "none" || strings.HasPrefix(mode, "container:") {
			fail("networkMode", "networkMode %q cannot be combined with networksAdvanced", mode)
		}
	}

	for i, v := range objList(in, "volumes") {
		p := fmt.Sprintf("volumes[%d]", i)
		if framework.AnyUnknown(v) {
			continue
		}
		from, cpath, hpath, vname := str(v, "fromContainer"), str(v, "containerPath"), str(v, "hostPath"), str(v, "volumeName")
		switch {
		case from != "":
			if cpath != "" || hpath != "" || vname != "" {
				fail(p, "fromContainer cannot be combined with containerPath, hostPath or volumeName")
			}
		case cpath == "":
			fail(p+".containerPath", "containerPath is required")
		case !path.IsAbs(cpath):
			fail(p+".containerPath", "containerPath %q must be absolute", cpath)
		case hpath != "" && vname != "":
			fail(p, "give hostPath or volumeName, not both")
		case hpath != "" && !path.IsAbs(hpath):
			fail(p+".hostPath", "hostPath %q must be absolute", hpath)
		}
	}
	for i, m := range objList(in, "mounts") {
		p := fmt.Sprintf("mounts[%d]", i)
		if framework.AnyUnknown(m) {
			continue
		}
		t := str(m, "type")
		switch t {
		case "bind", "volume", "tmpfs":
		default:
			fail(p+".type", "mount type must be bind, volume or tmpfs (got %q)", t)
		}
		if tg := str(m, "target"); tg == "" || !path.IsAbs(tg) {
			fail(p+".target", "target must be an absolute path")
		}
		if t == "bind" && !path.IsAbs(str(m, "source")) {
			fail(p+".source", "a bind mount needs an absolute source path")
		}
	}
	for i, pt := range objList(in, "ports") {
		p := fmt.Sprintf("ports[%d]", i)
		if framework.AnyUnknown(pt) {
			continue
		}
		if n, ok := framework.GetInt(pt, "internal"); !ok || n < 1 || n > 65535 {
			fail(p+".internal", "internal must be a port number")
		}
		if n, ok := framework.GetInt(pt, "external"); ok && (n < 0 || n > 65535) {
			fail(p+".external", "external must be a port number")
		}
		if pr := framework.StringOr(pt, "protocol", "tcp"); pr != "tcp" && pr != "udp" && pr != "sctp" {
			fail(p+".protocol", "protocol must be tcp, udp or sctp")
		}
	}
	if hc, ok := object(in, "healthcheck"); ok && !framework.AnyUnknown(hc) {
		if len(strs(hc, "tests")) == 0 {
			fail("healthcheck.tests", "a health check needs tests, e.g. [\"CMD\", \"true\"]")
		}
		for _, k := range []string{"interval", "timeout", "startPeriod", "startInterval"} {
			if s := str(hc, k); s != "" {
				if _, err := time.ParseDuration(s); err != nil {
					fail("healthcheck."+k, "%q is not a duration such as \"10s\"", s)
				}
			}
		}
	}
	return fails
}

// validContainerName applies the daemon's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+.
func validContainerName(n string) bool { return validVolumeName(n) }

// netAttach is a network to connect after the container is created.
type netAttach struct {
	network  string
	endpoint *dockerapi.EndpointSettings
}

func endpointFor(n pmap) *dockerapi.EndpointSettings {
	ep := &dockerapi.EndpointSettings{
		Aliases:    strs(n, "aliases"),
		MacAddress: str(n, "macAddress"),
	}
	v4, v6 := str(n, "ipv4Address"), str(n, "ipv6Address")
	if v4 != "" || v6 != "" {
		ep.IPAMConfig = &dockerapi.EndpointIPAMConfig{IPv4Address: v4, IPv6Address: v6}
	}
	return ep
}

func intPtr(m pmap, k string) *int {
	if v, ok := framework.GetInt(m, k); ok {
		return &v
	}
	return nil
}

func int64Of(m pmap, k string, scale int64) int64 {
	if v, ok := framework.GetNumber(m, k); ok {
		if v < 0 {
			return int64(v) // -1 means unlimited (memorySwap)
		}
		return int64(v) * scale
	}
	return 0
}

func durationNanos(s string) int64 {
	if s == "" {
		return 0
	}
	d, _ := time.ParseDuration(s)
	return int64(d)
}

// containerRequest builds the create body from checked, known inputs. Networks beyond the first
// of networksAdvanced are returned to be connected after creation (Docker API versions before
// 1.44 accept a single network in the create body).
func containerRequest(in pmap) (*dockerapi.ContainerCreateRequest, []netAttach) {
	cfg := dockerapi.ContainerConfig{
		Image:       str(in, "image"),
		Hostname:    str(in, "hostname"),
		Domainname:  str(in, "domainname"),
		User:        str(in, "user"),
		WorkingDir:  str(in, "workingDir"),
		Env:         strs(in, "envs"),
		Cmd:         strs(in, "command"),
		Entrypoint:  strs(in, "entrypoints"),
		Labels:      labelsToMap(in, "labels"),
		Tty:         framework.BoolOr(in, "tty", false),
		OpenStdin:   framework.BoolOr(in, "stdinOpen", false),
		StopSignal:  str(in, "stopSignal"),
		StopTimeout: intPtr(in, "stopTimeout"),
	}
	hc := &dockerapi.HostConfig{
		RestartPolicy: dockerapi.RestartPolicy{
			Name:              framework.StringOr(in, "restart", "no"),
			MaximumRetryCount: framework.IntOr(in, "maxRetryCount", 0),
		},
		AutoRemove:        framework.BoolOr(in, "rm", false),
		CgroupnsMode:      str(in, "cgroupnsMode"),
		CgroupParent:      str(in, "cgroupParent"),
		DNS:               strs(in, "dns"),
		DNSOptions:        strs(in, "dnsOpts"),
		DNSSearch:         strs(in, "dnsSearches"),
		GroupAdd:          strs(in, "groupAdds"),
		IpcMode:           str(in, "ipcMode"),
		PidMode:           str(in, "pidMode"),
		UsernsMode:        str(in, "usernsMode"),
		Privileged:        framework.BoolOr(in, "privileged", false),
		PublishAllPorts:   framework.BoolOr(in, "publishAllPorts", false),
		ReadonlyRootfs:    framework.BoolOr(in, "readOnly", false),
		SecurityOpt:       strs(in, "securityOpts"),
		StorageOpt:        smap(in, "storageOpts"),
		Tmpfs:             smap(in, "tmpfs"),
		Sysctls:           smap(in, "sysctls"),
		Runtime:           str(in, "runtime"),
		ShmSize:           int64Of(in, "shmSize", mb),
		Memory:            int64Of(in, "memory", mb),
		MemoryReservation: int64Of(in, "memoryReservation", mb),
		MemorySwap:        int64Of(in, "memorySwap", mb),
		CPUShares:         int64Of(in, "cpuShares", 1),
		CPUPeriod:         int64Of(in, "cpuPeriod", 1),
		CPUQuota:          int64Of(in, "cpuQuota", 1),
		CpusetCpus:        str(in, "cpuSet"),
	}
	if c := str(in, "cpus"); c != "" {
		if f, err := strconv.ParseFloat(c, 64); err == nil {
			hc.NanoCPUs = int64(f * 1e9)
		}
	}
	if b, ok := framework.GetBool(in, "init"); ok {
		hc.Init = &b
	}
	if caps, ok := object(in, "capabilities"); ok {
		hc.CapAdd = strs(caps, "adds")
		hc.CapDrop = strs(caps, "drops")
	}
	if d := str(in, "logDriver"); d != "" || len(smap(in, "logOpts")) > 0 {
		hc.LogConfig = &dockerapi.LogConfig{Type: d, Config: smap(in, "logOpts")}
	}
	for _, h := range objList(in, "hosts") {
		hc.ExtraHosts = append(hc.ExtraHosts, str(h, "host")+":"+str(h, "ip"))
	}
	for _, u := range objList(in, "ulimits") {
		hc.Ulimits = append(hc.Ulimits, dockerapi.Ulimit{
			Name: str(u, "name"), Soft: int64Of(u, "soft", 1), Hard: int64Of(u, "hard", 1),
		})
	}
	for _, d := range objList(in, "devices") {
		host := str(d, "hostPath")
		hc.Devices = append(hc.Devices, dockerapi.DeviceMapping{
			PathOnHost:        host,
			PathInContainer:   framework.StringOr(d, "containerPath", host),
			CgroupPermissions: framework.StringOr(d, "permissions", "rwm"),
		})
	}
	for _, v := range objList(in, "volumes") {
		ro := framework.BoolOr(v, "readOnly", false)
		suffix := ""
		if ro {
			suffix = ":ro"
		}
		from, cpath := str(v, "fromContainer"), str(v, "containerPath")
		src := str(v, "hostPath")
		if src == "" {
			src = str(v, "volumeName")
		}
		switch {
		case from != "":
			hc.VolumesFrom = append(hc.VolumesFrom, from+suffix)
		case src != "":
			hc.Binds = append(hc.Binds, src+":"+cpath+suffix)
		default:
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[cpath] = struct{}{}
		}
	}
	for _, m := range objList(in, "mounts") {
		mt := dockerapi.Mount{
			Type:     str(m, "type"),
			Source:   str(m, "source"),
			Target:   str(m, "target"),
			ReadOnly: framework.BoolOr(m, "readOnly", false),
		}
		if b, ok := object(m, "bindOptions"); ok && str(b, "propagation") != "" {
			mt.BindOptions = &dockerapi.BindOptions{Propagation: str(b, "propagation")}
		}
		if vo, ok := object(m, "volumeOptions"); ok {
			mt.VolumeOptions = &dockerapi.VolumeOptions{
				NoCopy:  framework.BoolOr(vo, "noCopy", false),
				Labels:  labelsToMap(vo, "labels"),
				Subpath: str(vo, "subpath"),
			}
			if str(vo, "driverName") != "" || len(smap(vo, "driverOptions")) > 0 {
				mt.VolumeOptions.DriverConfig = &dockerapi.MountDriver{Name: str(vo, "driverName"), Options: smap(vo, "driverOptions")}
			}
		}
		if to, ok := object(m, "tmpfsOptions"); ok {
			mt.TmpfsOptions = &dockerapi.TmpfsOptions{SizeBytes: int64Of(to, "sizeBytes", 1), Mode: uint32(framework.IntOr(to, "mode", 0))}
		}
		hc.Mounts = append(hc.Mounts, mt)
	}
	for _, p := range objList(in, "ports") {
		port := fmt.Sprintf("%d/%s", framework.IntOr(p, "internal", 0), framework.StringOr(p, "protocol", "tcp"))
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
			hc.PortBindings = map[string][]dockerapi.PortBinding{}
		}
		cfg.ExposedPorts[port] = struct{}{}
		b := dockerapi.PortBinding{HostIP: framework.StringOr(p, "ip", "0.0.0.0")}
		if e := framework.IntOr(p, "external", 0); e > 0 {
			b.HostPort = strconv.Itoa(e)
		}
		hc.PortBindings[port] = append(hc.PortBindings[port], b)
	}
	if h, ok := object(in, "healthcheck"); ok {
		cfg.Healthcheck = &dockerapi.HealthConfig{
			Test:          strs(h, "tests"),
			Interval:      durationNanos(str(h, "interval")),
			Timeout:       durationNanos(str(h, "timeout")),
			StartPeriod:   durationNanos(str(h, "startPeriod")),
			StartInterval: durationNanos(str(h, "startInterval")),
			Retries:       framework.IntOr(h, "retries", 0),
		}
	}

	req := &dockerapi.ContainerCreateRequest{ContainerConfig: cfg, HostConfig: hc}
	mode := str(in, "networkMode")
	var later []netAttach
	nets := objList(in, "networksAdvanced")
	if len(nets) > 0 && (mode == "" || mode == "bridge") {
		// Create the container on its first network directly (never on the default bridge).
		first := str(nets[0], "name")
		hc.NetworkMode = first
		req.NetworkingConfig = &dockerapi.NetworkingConfig{EndpointsConfig: map[string]*dockerapi.EndpointSettings{
			first: endpointFor(nets[0]),
		}}
		nets = nets[1:]
	} else {
		hc.NetworkMode = mode
	}
	for _, n := range nets {
		name := str(n, "name")
		if name == hc.NetworkMode {
			continue
		}
		later = append(later, netAttach{network: name, endpoint: endpointFor(n)})
	}
	return req, later
}

// updateRequest builds the docker update body for the in-place inputs. Docker refuses a memory
// limit above the container's current swap limit unless both change together, so a memory limit
// without memorySwap sends swap = 2 x memory, which is what Docker picks at create time.
func updateRequest(in pmap) *dockerapi.UpdateConfig {
	u := &dockerapi.UpdateConfig{
		RestartPolicy: &dockerapi.RestartPolicy{
			Name:              framework.StringOr(in, "restart", "no"),
			MaximumRetryCount: framework.IntOr(in, "maxRetryCount", 0),
		},
		Memory:            int64Of(in, "memory", mb),
		MemoryReservation: int64Of(in, "memoryReservation", mb),
		MemorySwap:        int64Of(in, "memorySwap", mb),
		CPUShares:         int64Of(in, "cpuShares", 1),
		CPUPeriod:         int64Of(in, "cpuPeriod", 1),
		CPUQuota:          int64Of(in, "cpuQuota", 1),
		CpusetCpus:        str(in, "cpuSet"),
	}
	if u.Memory > 0 && !framework.Has(in, "memorySwap") {
		u.MemorySwap = 2 * u.Memory
	}
	return u
}
