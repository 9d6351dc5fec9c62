package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/lab"
)

// defaultLabInventory is the committed lab topology.
const defaultLabInventory = "lab/inventory.yml"

func newLabCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Build, inspect and remove the lab: real Debian hosts on this machine",
		Long: `lab runs the hosts of a lab inventory as real Debian 12 systems on this Linux
machine: each boots systemd under systemd-nspawn in its own network namespace,
on bridge ` + lab.BridgeName + ` (` + lab.BridgeAddress.String() + `), and reaches Debian's mirror only through
a caching proxy on the bridge. Lab state (keys, known_hosts, host disks) lives
in the folder of the inventory's connection private_key. Needs root.

With --provider vagrant the hosts are Vagrant VMs instead, on ` + lab.VMNetwork.String() + `
(lab/vagrant/inventory.yml: a web server and a load balancer); see lab up --help.`,
		Example: `  sudo ferry lab up
  sudo ferry lab status
  sudo ferry lab ssh web-01 -- systemctl is-system-running
  sudo ferry lab down
  sudo ferry lab up --provider vagrant -i lab/vagrant/inventory.yml`,
	}
	cmd.AddCommand(newLabUpCmd(), newLabDownCmd(), newLabStatusCmd(), newLabSSHCmd(), newLabBoxCmd())
	return cmd
}

func newLabUpCmd() *cobra.Command {
	var vopts lab.VagrantOptions
	cmd := withProvider(&cobra.Command{
		Use: "up",
		Example: `  sudo ferry lab up
  sudo ferry lab up --provider vagrant -i lab/vagrant/inventory.yml
  sudo ferry lab up --provider vagrant -i lab/vagrant/inventory.yml --hosts web-01`,
		Short: "Boot every lab host that is not running (a no-op when all are)",
		Long: `up boots the lab inventory's hosts. The default provider, nspawn, runs them as
containers on this machine. --provider vagrant runs them as Vagrant VMs on
the VM network ` + lab.VMNetwork.String() + ` (libvirt, or VirtualBox): with libvirt it starts
the libvirt daemons when no service manager runs them, the network, the
storage pool and the VMs' apt proxy on ` + lab.VMGateway.String() + `, uses KVM where a test guest
boots with it and qemu emulation where not (and says which), and builds the
local box when it is the one (see ferry lab box).`,
		Args: cobra.NoArgs,
	}, "nspawn (containers on this machine) or vagrant (VMs)", func(cmd *cobra.Command, spec lab.Spec) error {
		if len(vopts.Hosts) > 0 {
			return badInput(fmt.Errorf("--hosts: only with --provider vagrant"))
		}
		return lab.Up(cmd.Context(), spec)
	}, func(cmd *cobra.Command, spec lab.Spec) error {
		return lab.VagrantUp(cmd.Context(), spec, vopts)
	})
	cmd.Flags().StringSliceVar(&vopts.Hosts, "hosts", nil, "vagrant: bring up only these hosts of the inventory (comma-separated)")
	cmd.Flags().StringVar(&vopts.Box, "box", "", "vagrant: \"local\" (built by ferry lab box) or a box name; default: the local box when it is built or KVM is unusable, else "+lab.PublicBox)
	cmd.Flags().StringVar(&vopts.Provider, "vm-provider", "", "vagrant: libvirt or virtualbox; default libvirt when virsh is installed")
	return cmd
}

func newLabDownCmd() *cobra.Command {
	var purge bool
	cmd := withProvider(&cobra.Command{
		Use:     "down",
		Example: "  sudo ferry lab down\n  sudo ferry lab down --purge   # also the cached base system and apt cache",
		Short:   "Remove every host, namespace, bridge, proxy and state file of the lab",
		Long: `down removes what the lab made, working from what exists (processes,
namespaces, bridge ports, the state folder), so it also cleans up after a
crash. The cached base system and apt cache stay unless --purge is given.`,
		Args: cobra.NoArgs,
	}, "nspawn or vagrant", func(cmd *cobra.Command, spec lab.Spec) error {
		return lab.Down(cmd.Context(), spec, purge)
	}, func(cmd *cobra.Command, spec lab.Spec) error {
		return lab.VagrantDown(cmd.Context(), spec)
	})
	cmd.Flags().BoolVar(&purge, "purge", false, "also remove the cached base system ("+lab.DefaultBaseDir+") and apt cache")
	return cmd
}

func newLabStatusCmd() *cobra.Command {
	return withProvider(&cobra.Command{
		Use:     "status",
		Example: "  sudo ferry lab status\n  sudo ferry lab status --provider vagrant -i lab/vagrant/inventory.yml",
		Short:   "Show each lab host's state and address",
		Args:    cobra.NoArgs,
	}, "nspawn or vagrant (VMs as libvirt sees them)", func(cmd *cobra.Command, spec lab.Spec) error {
		hosts, err := lab.Status(spec)
		if err != nil {
			return err
		}
		return printLabStatus(cmd.OutOrStdout(), hosts, lab.BridgeAddress, lab.ProxyRunning(spec))
	}, func(cmd *cobra.Command, spec lab.Spec) error {
		hosts, err := lab.VagrantStatus(cmd.Context(), spec)
		if err != nil {
			return err
		}
		return printLabStatus(cmd.OutOrStdout(), hosts, lab.VMGateway, lab.VMProxyRunning(spec))
	})
}

// withProvider makes cmd a lab command for either kind of lab: it gets
// --provider (usage says what each means here), and its RunE loads the lab
// inventory, then runs nspawn or vagrant as --provider says.
func withProvider(cmd *cobra.Command, usage string, nspawn, vagrant func(*cobra.Command, lab.Spec) error) *cobra.Command {
	provider := cmd.Flags().String("provider", "nspawn", usage)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		spec, _, err := labSpec(cmd)
		if err != nil {
			return err
		}
		switch *provider {
		case "nspawn":
			return nspawn(cmd, spec)
		case "vagrant":
			return vagrant(cmd, spec)
		}
		return badInput(fmt.Errorf("--provider %q: want nspawn or vagrant", *provider))
	}
	return cmd
}

// printLabStatus writes the lab status table: the hosts, then the apt
// proxy the hosts reach Debian's mirror through.
func printLabStatus(w io.Writer, hosts []lab.HostStatus, proxyAddr netip.Addr, proxyRunning bool) error {
	proxy := "stopped"
	if proxyRunning {
		proxy = "running"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tADDRESS\tSTATE")
	for _, h := range hosts {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", h.Name, h.Address, h.State)
	}
	fmt.Fprintf(tw, "(apt proxy)\t%s:%d\t%s\n", proxyAddr, lab.ProxyPort, proxy)
	return tw.Flush()
}

func newLabSSHCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "ssh HOST [-- COMMAND...]",
		Example: "  sudo ferry lab ssh web-01\n  sudo ferry lab ssh db-02 -- mysql -e 'SHOW SLAVE STATUS\\G'",
		Short:   "Log in to a lab host (or run a command) with the lab key, host key verified",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, _, err := labSpec(cmd)
			if err != nil {
				return err
			}
			argv, err := labSSHArgs(spec, args[0], args[1:])
			if err != nil {
				return badInput(err)
			}
			path, err := exec.LookPath("ssh")
			if err != nil {
				return fmt.Errorf("ssh client: %w; install with: %s", err, lab.AptInstallHint)
			}
			// Exec, not a child: the terminal, signals and exit status are ssh's.
			return syscall.Exec(path, argv, os.Environ())
		},
	}
}

// labSSHArgs is the ssh command line for a lab host: the lab key only, and
// the lab's known_hosts strictly, so nothing is trusted on first use.
func labSSHArgs(spec lab.Spec, host string, command []string) ([]string, error) {
	for _, h := range spec.Hosts {
		if h.Name != host {
			continue
		}
		argv := []string{"ssh",
			"-i", spec.KeyFile,
			"-o", "IdentitiesOnly=yes",
			"-o", "UserKnownHostsFile=" + spec.KnownHostsFile,
			"-o", "GlobalKnownHostsFile=/dev/null",
			"-o", "StrictHostKeyChecking=yes",
			"-o", "HostKeyAlias=" + h.Address,
			"root@" + h.Address}
		return append(argv, command...), nil
	}
	return nil, fmt.Errorf("lab ssh: no host %q in the lab inventory", host)
}

// labSpec loads the lab inventory (-i, default lab/inventory.yml) into the
// plain spec package lab takes. The state dir is the folder of the
// connection's private key, so the inventory says where lab state lives.
func labSpec(cmd *cobra.Command) (lab.Spec, string, error) {
	path, _ := cmd.Flags().GetString("inventory")
	if path == "" {
		path = defaultLabInventory
	}
	inv, err := inventory.LoadTopology(path)
	if err != nil {
		return lab.Spec{}, "", badInput(err)
	}
	// The provider decides the network the inventory's addresses must be
	// in; a command without --provider (ssh) follows the first host.
	network := lab.Network
	if f := cmd.Flags().Lookup("provider"); f != nil {
		if f.Value.String() == "vagrant" {
			network = lab.VMNetwork
		}
	} else if len(inv.Hosts) > 0 {
		if a, err := netip.ParseAddr(inv.Hosts[0].Address); err == nil && lab.VMNetwork.Contains(a) {
			network = lab.VMNetwork
		}
	}
	spec, err := specFromInventory(inv, network)
	if err != nil {
		return lab.Spec{}, "", badInput(err)
	}
	spec.Log = cmd.ErrOrStderr()
	return spec, inv.Path, nil
}

// specFromInventory maps inventory hosts and connection onto a lab.Spec.
func specFromInventory(inv *inventory.Inventory, network netip.Prefix) (lab.Spec, error) {
	conn := inv.Connection
	if conn.PrivateKey == "" {
		return lab.Spec{}, fmt.Errorf("lab inventory %s: connection.private_key must name the lab key (its folder holds the lab state)", inv.Path)
	}
	// The loader already resolved the paths against the inventory's folder;
	// making them absolute pins them against later working-directory changes.
	abs := func(p string) (string, error) {
		if p == "" {
			return "", nil
		}
		a, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("lab inventory %s: path %s: %w", inv.Path, p, err)
		}
		return a, nil
	}
	key, err := abs(conn.PrivateKey)
	if err != nil {
		return lab.Spec{}, err
	}
	known, err := abs(conn.KnownHosts)
	if err != nil {
		return lab.Spec{}, err
	}
	spec := lab.Spec{
		StateDir:       filepath.Dir(key),
		KeyFile:        key,
		KnownHostsFile: known,
		Network:        network,
	}
	for _, h := range inv.Hosts {
		if h.Address == "" {
			return lab.Spec{}, fmt.Errorf("lab inventory %s: host %s has no address", inv.Path, h.Name)
		}
		spec.Hosts = append(spec.Hosts, lab.HostSpec{Name: h.Name, Address: h.Address})
	}
	if len(spec.Hosts) == 0 {
		return lab.Spec{}, errors.New("lab inventory " + inv.Path + ": no hosts")
	}
	if err := spec.Validate(); err != nil {
		return lab.Spec{}, fmt.Errorf("lab inventory %s: %w", inv.Path, err)
	}
	return spec, nil
}
