package hostread

import (
	"strings"

	"github.com/ferry-deploy/ferry/internal/shell"
)

// Unit is one unit as `systemctl show -p Id -p LoadState -p ActiveState`
// prints it.
type Unit struct {
	ID     string // the unit's own name: an alias (mysql.service) shows its target
	Load   string // loaded, not-found, masked, ...
	Active string // active, inactive, failed, activating, ...
}

// Units reads the state of the named units (".service" is added to names
// without a suffix); the parser keeps those that are installed, each once.
func Units(names ...string) Reader[[]Unit] {
	units := make([]string, len(names))
	for i, n := range names {
		if !strings.Contains(n, ".") {
			n += ".service"
		}
		units[i] = shell.Quote(n)
	}
	return Reader[[]Unit]{
		Name:   "systemd units",
		Script: "systemctl show -p Id -p LoadState -p ActiveState " + strings.Join(units, " ") + " 2>&1",
		Parse:  infallible(ParseUnits),
	}
}

// ParseUnits reads systemctl show's blocks (KEY=value lines, a blank line
// between units) and keeps the installed units, each once: Debian's
// mysql.service is an alias of mariadb.service and shows as it.
func ParseUnits(text string) []Unit {
	var out []Unit
	seen := map[string]bool{}
	flush := func(u Unit) {
		if u.ID != "" && u.Load == "loaded" && !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	var u Unit
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			flush(u)
			u = Unit{}
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "Id":
			u.ID = v
		case "LoadState":
			u.Load = v
		case "ActiveState":
			u.Active = v
		}
	}
	flush(u)
	return out
}

// Service is one service's state: whether it is installed, running and
// started at boot, in the words of the init system.
type Service struct {
	Loaded  bool
	Active  string // systemd's word: active, inactive, failed, activating, ...
	Enabled string // systemd's word: enabled, disabled, masked, static, ...
}

// Running is true for a service that runs or is on its way to.
func (s Service) Running() bool {
	return s.Active == "active" || s.Active == "activating" || s.Active == "reloading"
}

// IsEnabled is true for a service that starts at boot, on its own or as
// another unit's dependency.
func (s Service) IsEnabled() bool {
	switch s.Enabled {
	case "enabled", "enabled-runtime", "alias", "static", "indirect", "generated", "transient":
		return true
	}
	return false
}

// CanDisable is false for units without an [Install] section, which start
// only as dependencies; disabling them is not possible and not asked for.
func (s Service) CanDisable() bool {
	return s.Enabled != "static" && s.Enabled != "generated" && s.Enabled != "transient"
}

// String is the state in the form ParseService reads (check mode keeps
// predicted states this way).
func (s Service) String() string {
	load := "not-found"
	if s.Loaded {
		load = "loaded"
	}
	return "load=" + load + "\nactive=" + s.Active + "\nenabled=" + s.Enabled + "\n"
}

// systemdService prints the states of unit $n with one start of
// systemctl where it can (on the lab's hosts a start costs ~6 ms, and a
// host reads tens of units): systemctl show's LoadState, ActiveState and
// UnitFileState. is-enabled is asked only where UnitFileState would say
// something else: for an alias (show describes the unit it points to, Id
// names that unit; is-enabled says "alias"), a unit made by a generator
// from an init script (is-enabled asks the script's rc links) and a unit
// without a unit file.
const systemdService = `s=$(systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState -- "$n" 2>/dev/null)
printf '%s\n' "$s"
case "$n" in *.*) u=$n;; *) u=$n.service;; esac
case "
$s
" in
*"
UnitFileState=generated
"*|*"
UnitFileState=
"*) ;;
*"
Id=$u
"*) exit 0;;
esac
echo "enabled=$(systemctl is-enabled -- "$n" 2>/dev/null)"`

// sysvService does the same with service(8) and the rc links.
const sysvService = `if [ -x "/etc/init.d/$n" ]; then echo load=loaded; else echo load=not-found; fi
if service "$n" status >/dev/null 2>&1; then echo active=active; else echo active=inactive; fi
if ls /etc/rc[2345].d/S[0-9][0-9]"$n" >/dev/null 2>&1; then echo enabled=enabled; else echo enabled=disabled; fi`

// ServiceState reads one service, from systemd or (sysv) init scripts.
func ServiceState(name string, sysv bool) Reader[Service] {
	script := systemdService
	if sysv {
		script = sysvService
	}
	return Reader[Service]{
		Name:   "service " + name,
		Script: "n=" + shell.Quote(name) + "\n" + script,
		Parse:  infallible(ParseService),
	}
}

// ParseService reads ServiceState's output: systemctl show's LoadState=,
// ActiveState= and UnitFileState= lines, or the load=, active= and
// enabled= lines of the sysv script and of Service.String. An enabled=
// line (is-enabled's answer) wins over UnitFileState.
func ParseService(out string) Service {
	var s Service
	var unitFile string
	haveEnabled := false
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "load", "LoadState":
			s.Loaded = v == "loaded"
		case "active", "ActiveState":
			s.Active = v
		case "enabled":
			s.Enabled, haveEnabled = v, true
		case "UnitFileState":
			unitFile = v
		}
	}
	if !haveEnabled {
		s.Enabled = unitFile
	}
	return s
}
