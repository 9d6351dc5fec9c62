package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// netnsPath is where `ip netns` binds a host's network namespace.
func netnsPath(host string) string { return filepath.Join("/run/netns", host) }

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// ensureBridge creates br-ferry with the controller's lab address. Hosts get
// no default route and the bridge does not forward, so a lab host reaches
// the bridge address and its peers and nothing else, even on a controller
// with forwarding enabled.
func ensureBridge(ctx context.Context) error {
	if !linkExists(BridgeName) {
		if err := run(ctx, "ip", "link", "add", BridgeName, "type", "bridge"); err != nil {
			return fmt.Errorf("create bridge: %w", err)
		}
	}
	addr := fmt.Sprintf("%s/%d", BridgeAddress, Network.Bits())
	if err := run(ctx, "ip", "addr", "replace", addr, "dev", BridgeName); err != nil {
		return fmt.Errorf("address bridge: %w", err)
	}
	for _, sysctl := range []string{
		"/proc/sys/net/ipv4/conf/" + BridgeName + "/forwarding",
		"/proc/sys/net/ipv6/conf/" + BridgeName + "/forwarding",
	} {
		if err := os.WriteFile(sysctl, []byte("0\n"), 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("disable forwarding from the lab: %w", err)
		}
	}
	if err := run(ctx, "ip", "link", "set", BridgeName, "up"); err != nil {
		return fmt.Errorf("bring bridge up: %w", err)
	}
	return nil
}

// createHostNet makes a host's namespace with eth0 on the bridge, addressed
// and up before the host boots, so the host needs no network manager.
func createHostNet(ctx context.Context, h HostSpec) error {
	veth := vethName(h.Name)
	steps := [][]string{
		{"netns", "add", h.Name},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", h.Name},
		{"link", "set", veth, "master", BridgeName, "up"},
		{"-n", h.Name, "addr", "add", fmt.Sprintf("%s/%d", h.Address, Network.Bits()), "dev", "eth0"},
		{"-n", h.Name, "link", "set", "lo", "up"},
		{"-n", h.Name, "link", "set", "eth0", "up"},
	}
	for _, args := range steps {
		if err := run(ctx, "ip", args...); err != nil {
			return fmt.Errorf("network of %s: %w", h.Name, err)
		}
	}
	return nil
}

// removeHostNet removes a host's namespace and veth if they exist, after
// killing any process still inside the namespace.
func removeHostNet(ctx context.Context, host string) error {
	var errs []error
	if _, err := os.Stat(netnsPath(host)); err == nil {
		if pids := procsInNetns(netnsPath(host)); len(pids) > 0 {
			if err := terminate(ctx, pids, syscall.SIGKILL, 5*time.Second); err != nil {
				errs = append(errs, fmt.Errorf("processes in netns %s: %w", host, err))
			}
		}
		if err := run(ctx, "ip", "netns", "delete", host); err != nil {
			errs = append(errs, err)
		}
	}
	if err := deleteLink(ctx, vethName(host)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// deleteLink deletes an interface if it exists. A veth whose peer's
// namespace was just deleted disappears asynchronously, so one that
// vanishes between the check and the delete is not an error.
func deleteLink(ctx context.Context, name string) error {
	if !linkExists(name) {
		return nil
	}
	if err := run(ctx, "ip", "link", "delete", name); err != nil && linkExists(name) {
		return err
	}
	return nil
}

// bridgePorts lists the interfaces enslaved to the lab bridge: the veths of
// hosts, including those of hosts no longer in any spec.
func bridgePorts() []string {
	ents, _ := os.ReadDir(filepath.Join("/sys/class/net", BridgeName, "brif"))
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// removeBridge deletes the lab bridge and any veth still attached to it.
func removeBridge(ctx context.Context) error {
	var errs []error
	for _, port := range bridgePorts() {
		if strings.HasPrefix(port, "vf-") {
			if err := deleteLink(ctx, port); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := deleteLink(ctx, BridgeName); err != nil {
		errs = append(errs, fmt.Errorf("remove bridge: %w", err))
	}
	return errors.Join(errs...)
}
