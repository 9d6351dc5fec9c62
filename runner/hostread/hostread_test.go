package hostread

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-deploy/ferry/runner/local"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseUnits(t *testing.T) {
	got := ParseUnits(fixture(t, "systemctl-show-lb.txt"))
	want := []Unit{
		{"haproxy.service", "loaded", "active"},
		{"keepalived.service", "loaded", "active"},
		{"prometheus-node-exporter.service", "loaded", "active"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Debian's mysql.service is an alias of mariadb.service: one unit.
	alias := "Id=mariadb.service\nLoadState=loaded\nActiveState=failed\n\nId=mariadb.service\nLoadState=loaded\nActiveState=failed\n"
	if got := ParseUnits(alias); len(got) != 1 || got[0].Active != "failed" {
		t.Errorf("alias: %+v", got)
	}
	if s := Units("nginx", "a b.socket").Script; s != "systemctl show -p Id -p LoadState -p ActiveState nginx.service 'a b.socket' 2>&1" {
		t.Errorf("script: %s", s)
	}
}

func TestParseService(t *testing.T) {
	for out, want := range map[string]Service{
		"load=loaded\nactive=active\nenabled=enabled\n":                                              {Loaded: true, Active: "active", Enabled: "enabled"},
		"load=not-found\nactive=inactive\nenabled=\n":                                                {Active: "inactive"},
		"load=masked\nactive=inactive\nenabled=masked\n":                                             {Active: "inactive", Enabled: "masked"},
		"load=loaded\nactive=activating\nenabled=static\n\n\n":                                       {Loaded: true, Active: "activating", Enabled: "static"},
		"Id=a.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n":                {Loaded: true, Active: "active", Enabled: "enabled"},
		"Id=a.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\nenabled=alias\n": {Loaded: true, Active: "active", Enabled: "alias"},
	} {
		got := ParseService(out)
		if got != want {
			t.Errorf("%q: %+v, want %+v", out, got, want)
		}
		if back := ParseService(got.String()); back != got {
			t.Errorf("String does not round-trip: %+v -> %+v", got, back)
		}
	}
	st := Service{Loaded: true, Active: "activating", Enabled: "static"}
	if !st.Running() || !st.IsEnabled() || st.CanDisable() {
		t.Errorf("%+v: running %v enabled %v can disable %v", st, st.Running(), st.IsEnabled(), st.CanDisable())
	}
}

// TestServiceScriptsInSh runs the systemd reader's script against a
// stand-in systemctl that answers as systemd 252 does: the unit name
// reaches it as one argument, and is-enabled is asked only where
// UnitFileState would not say what it says (an alias, a unit generated
// from an init script, no unit file).
func TestServiceScriptsInSh(t *testing.T) {
	const name = "odd name$(x)"
	for _, tt := range []struct {
		id, load, active, unitFile, isEnabled string
		asks                                  bool
		want                                  Service
	}{
		{name + ".service", "loaded", "active", "enabled", "enabled", false, Service{Loaded: true, Active: "active", Enabled: "enabled"}},
		{name + ".service", "loaded", "inactive", "static", "static", false, Service{Loaded: true, Active: "inactive", Enabled: "static"}},
		{name + ".service", "masked", "inactive", "masked", "masked", false, Service{Active: "inactive", Enabled: "masked"}},
		{"mariadb.service", "loaded", "active", "enabled", "alias", true, Service{Loaded: true, Active: "active", Enabled: "alias"}},
		{name + ".service", "loaded", "active", "generated", "enabled", true, Service{Loaded: true, Active: "active", Enabled: "enabled"}},
		{name + ".service", "not-found", "inactive", "", "", true, Service{Active: "inactive"}},
	} {
		bin := t.TempDir()
		log := filepath.Join(bin, "asked")
		stub := "#!/bin/sh\n" + `for a; do last=$a; done
[ "$last" = "$NAME" ] || { echo "unit name split: $last" >&2; exit 9; }
case $1 in
show) printf 'Id=%s\nLoadState=%s\nActiveState=%s\nUnitFileState=%s\n' "$ID" "$LOAD" "$ACTIVE" "$UNITFILE";;
is-enabled) echo asked >"$LOG"; echo "$ISENABLED";;
esac` + "\n"
		if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("/bin/sh", "-c", ServiceState(name, false).Script)
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "NAME=" + name, "ID=" + tt.id, "LOAD=" + tt.load,
			"ACTIVE=" + tt.active, "UNITFILE=" + tt.unitFile, "ISENABLED=" + tt.isEnabled, "LOG=" + log}
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := ParseService(string(out)); got != tt.want {
			t.Errorf("%+v: %+v, want %+v", tt, got, tt.want)
		}
		if _, err := os.Stat(log); (err == nil) != tt.asks {
			t.Errorf("%+v: is-enabled asked: %v", tt, err == nil)
		}
	}
}

func TestParseAddresses(t *testing.T) {
	vip := netip.MustParseAddr("198.18.0.10")
	has := func(file string) bool {
		for _, a := range ParseAddresses(fixture(t, file)) {
			if a.Addr == vip {
				if a.Iface != "eth0" || a.Bits != 24 {
					t.Errorf("%s: %+v", file, a)
				}
				return true
			}
		}
		return false
	}
	if !has("ip-addr-vip.txt") || has("ip-addr-novip.txt") || has("ip-addr-controller.txt") {
		t.Error("the floating address is found where it is not, or missed where it is")
	}
	addrs := ParseAddresses(fixture(t, "ip-addr-vip.txt"))
	if len(addrs) != 5 || addrs[0].Addr.String() != "127.0.0.1" || addrs[2].Addr.String() != "198.18.0.11" {
		t.Errorf("addresses: %+v", addrs)
	}
	if got := ParseAddresses("garbage\n1: lo inet nonsense\n"); len(got) != 0 {
		t.Errorf("garbage: %+v", got)
	}
}

func TestParseHAProxyStat(t *testing.T) {
	rows, err := ParseHAProxyStat(fixture(t, "haproxy-show-stat.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := []HAProxyRow{
		{"https", "FRONTEND", "OPEN", "", 0},
		{"web", "web-01", "UP", "L7OK", 0},
		{"web", "web-02", "DOWN", "L4CON", 0},
		{"web", "web-03", "MAINT", "", 0},
		{"web", "BACKEND", "UP", "", 0},
		{"stats", "FRONTEND", "OPEN", "", 0},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		"2026/11/26 17:55:43 socat[42] E connect(5, AF=1 \"/run/haproxy/admin.sock\", 25): No such file or directory\n",
		"Unknown command. Please enter one of the following commands only :\n",
		"# pxname,svname\nweb,web-01\n", // no status column
		"",
	} {
		if _, err := ParseHAProxyStat(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// withSessions sets scur (column 5 in HAProxy 2.6) of one server.
func withSessions(t *testing.T, server, n string) string {
	return regexp.MustCompile(`(?m)^(web,`+regexp.QuoteMeta(server)+`,[^,]*,[^,]*,)0,`).ReplaceAllString(fixture(t, "haproxy-show-stat.csv"), "${1}"+n+",")
}

// TestHAProxySessionsScript: the polling fragment reads the same number as
// the parser, in a real /bin/sh and awk, from a stand-in socat that
// serves the recorded answer; names with backslashes stay literal.
func TestHAProxySessionsScript(t *testing.T) {
	stat := withSessions(t, "web-02", "7")
	rows, err := ParseHAProxyStat(stat)
	if err != nil || rows[2].Sessions != 7 || rows[1].Sessions != 0 {
		t.Fatalf("parser: %+v, %v", rows, err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "stat.csv")
	odd := strings.Replace(stat, "web,web-03,", `web,we\tb-03,`, 1)
	odd = regexp.MustCompile(`(?m)^(web,we\\tb-03,[^,]*,[^,]*,)0,`).ReplaceAllString(odd, "${1}4,")
	if err := os.WriteFile(data, []byte(odd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "socat"), []byte("#!/bin/sh\nread -r cmd; [ \"$cmd\" = 'show stat' ] || exit 9\nexec cat "+data+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for server, want := range map[string]string{"web-02": "7\n", "web-01": "0\n", `we\tb-03`: "4\n", "nobody": ""} {
		cmd := exec.Command("/bin/sh", "-c", `sock=/x; b=web; s=$1; `+HAProxySessionsScript(`"$sock"`, `"$b"`, `"$s"`), "sh", server)
		cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin"}
		out, err := cmd.Output()
		if err != nil || string(out) != want {
			t.Errorf("%s: %q, %v; want %q", server, out, err, want)
		}
	}
}

func TestParseReplicas(t *testing.T) {
	reps := ParseReplicas(fixture(t, "show-slave-status-ok.txt"))
	if len(reps) != 1 {
		t.Fatalf("replicas: %+v", reps)
	}
	r := reps[0]
	if r.SourceHost != "198.18.0.31" || r.SourcePort != 3306 || r.SourceUser != "repl" || !r.Running() || r.Lag == nil || *r.Lag != 0 || r.LastIOError != "" {
		t.Errorf("ok: %+v", r)
	}
	down := ParseReplicas(fixture(t, "show-slave-status-io-down.txt"))[0]
	if down.Running() || down.IORunning != "Connecting" || down.Lag != nil || !strings.Contains(down.LastIOError, "error connecting to master 'repl@198.18.0.31:3306'") {
		t.Errorf("io down: %+v", down)
	}
	lag := ParseReplicas(fixture(t, "show-slave-status-lagging.txt"))[0]
	if lag.Lag == nil || *lag.Lag != 42 {
		t.Errorf("lagging: %+v", lag)
	}
	// MySQL 8 names the columns Replica_ and Source_.
	mysql8 := strings.NewReplacer("Slave_", "Replica_", "Master_", "Source_", "Seconds_Behind_Master", "Seconds_Behind_Source").Replace(fixture(t, "show-slave-status-lagging.txt"))
	if r := ParseReplicas(mysql8)[0]; r.SourceHost != "198.18.0.31" || r.Lag == nil || *r.Lag != 42 || !r.Running() {
		t.Errorf("MySQL 8 names: %+v", r)
	}
	if got := ParseReplicas(""); len(got) != 0 {
		t.Errorf("empty: %v", got)
	}
}

func TestParseFirewall(t *testing.T) {
	out := "@@status\n" + fixture(t, "ufw_status_inactive.txt") + "@@added\n" + fixture(t, "ufw_show_added.txt") +
		"@@defaults\nIPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_OUTPUT_POLICY=\"ACCEPT\"\n"
	fw := ParseFirewall(out)
	if !fw.Installed || fw.Active || fw.Incoming != "deny" || fw.Outgoing != "allow" {
		t.Errorf("state: %+v", fw)
	}
	if len(fw.Rules) < 3 || fw.Rules[0] != "allow from 198.18.0.11 to any port 22 proto tcp" || fw.Rules[2] != "allow from 198.18.0.0/24 to any port 3306 proto tcp comment 'db clients'" {
		t.Errorf("rules: %q", fw.Rules)
	}
	// ufw status verbose's Default: line wins over the file.
	verbose := ParseFirewall("@@status\nStatus: active\nDefault: reject (incoming), allow (outgoing), disabled (routed)\n@@added\n@@defaults\nDEFAULT_INPUT_POLICY=\"DROP\"\n")
	if !verbose.Active || verbose.Incoming != "reject" || len(verbose.Rules) != 0 {
		t.Errorf("verbose: %+v", verbose)
	}
	if missing := ParseFirewall("@@status\nufw: command not found\n@@added\n/bin/sh: ufw: not found\n"); missing.Installed || len(missing.Rules) != 0 {
		t.Errorf("no ufw: %+v", missing)
	}
}

func TestSections(t *testing.T) {
	got := Sections("noise\n@@a\nx\ny\n@@b\n@@c\nz")
	if diff := cmp.Diff(map[string]string{"a": "x\ny\n", "b": "", "c": "z"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseIdentity(t *testing.T) {
	for out, want := range map[string]Identity{
		"Linux 6.1.0-18-amd64\nweb-01\n": {"Linux 6.1.0-18-amd64", "web-01"},
		"Linux 6.1.0-18-amd64\n":         {Kernel: "Linux 6.1.0-18-amd64"},
	} {
		if got := ParseIdentity(out); got != want {
			t.Errorf("%q: %+v, want %+v", out, got, want)
		}
	}
}

// TestReaderRead runs readers through a real executor (this machine's
// shell): the script's output is parsed, a failing script is an error
// naming the reader and carrying its stderr.
func TestReaderRead(t *testing.T) {
	x := local.New(local.Options{})
	id, err := HostIdentity.Read(context.Background(), x, false)
	host, _ := os.Hostname()
	if err != nil || id.Hostname != host || !strings.HasPrefix(id.Kernel, "Linux ") {
		t.Errorf("identity: %+v, %v", id, err)
	}
	bad := Reader[string]{Name: "nothing", Script: "echo why >&2; exit 4", Parse: func(s string) (string, error) { return s, nil }}
	if _, err := bad.Read(context.Background(), x, false); err == nil || err.Error() != "read nothing: exit 4: why" {
		t.Errorf("failing script: %v", err)
	}
}
