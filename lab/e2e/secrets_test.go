//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecretsCanaryThroughLabDeploy deploys the whole lab with canary values
// for every secret, with --diff -vvv and JSON output, while each host
// records its process list ten times a second, and then requires that no
// canary appears in ferry's output, in any host's process list, in the
// hosts' or the controller's temp folders; and that the files holding
// secrets landed with tight modes. The lab's own secrets are restored by a
// deploy at the end.
func TestSecretsCanaryThroughLabDeploy(t *testing.T) {
	start := time.Now().Add(-time.Second)
	canaries := map[string]string{
		"mysql_app_password":                  "cnryApp-4f2Zq81x",
		"mysql_replication_password":          "cnryRepl-9LmQ27v",
		"monitoring_mysqld_exporter_password": "cnryMon-Xk3p0Wd5",
	}
	dir := t.TempDir()
	var sec strings.Builder
	for k, v := range canaries {
		fmt.Fprintf(&sec, "%s: %s\n", k, v)
	}
	secrets := filepath.Join(dir, "secrets.yml")
	if err := os.WriteFile(secrets, []byte(sec.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// The canary inventory sits beside the lab's, so that both share the
	// lab CA in lab/.ferry/pki; only its secrets file differs.
	invText, err := os.ReadFile(labInventory())
	if err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(repoRoot, "lab", "canary-inventory.yml")
	text := strings.Replace(string(invText), "secrets: ../.lab/secrets.yml", "secrets: "+secrets, 1)
	if text == string(invText) {
		t.Fatal("lab/inventory.yml names no secrets file ../.lab/secrets.yml")
	}
	if err := os.WriteFile(inv, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(inv)
		if r := runFerry(t, "deploy", "-i", labInventory()); r.Code != 0 {
			t.Errorf("restoring the lab's secrets: exit %d\n%s", r.Code, r.Stdout)
		}
	})

	hosts := labHosts()
	for _, h := range hosts {
		mustOnHost(t, h.Name, `rm -f /root/ps-sample; nohup sh -c 'i=0; while [ $i -lt 3000 ]; do ps -eo args >> /root/ps-sample; i=$((i+1)); sleep 0.1; done' >/dev/null 2>&1 &`)
	}
	json := runFerry(t, "deploy", "-i", inv, "--diff", "-vvv", "--output", "json")
	human := runFerry(t, "deploy", "-i", inv, "--diff", "-vvv", "--check")
	for _, h := range hosts {
		runOnHost(t, h.Name, "pkill -f 'ps -eo args' ; pkill -f 'ps-sample'; true")
	}
	if json.Code != 0 {
		t.Fatalf("deploy with canary secrets: exit %d\n%s%s", json.Code, json.Stdout, json.Stderr)
	}
	leaks := func(where, text string) {
		for name, v := range canaries {
			if strings.Contains(text, v) {
				t.Errorf("secret %s appears in %s", name, where)
			}
		}
	}
	leaks("the JSON output", json.Stdout)
	leaks("stderr", json.Stderr+human.Stderr)
	leaks("the human output", human.Stdout)
	for _, h := range hosts {
		ps := mustOnHost(t, h.Name, "wc -l < /root/ps-sample; cat /root/ps-sample")
		if !strings.Contains(ps, "sshd") {
			t.Errorf("%s: the process sampler recorded nothing", h.Name)
		}
		leaks(h.Name+"'s process list", ps)
		// Temp folders, and the database servers' logs: MariaDB writes
		// CREATE/ALTER USER to its binary log as received, so ferry sends
		// it the password's hash.
		tmp := runOnHost(t, h.Name, "grep -rls -e "+strings.Join(quoteAll(values(canaries)), " -e ")+" /tmp /var/tmp /var/log 2>/dev/null; true")
		if strings.TrimSpace(tmp.Stdout) != "" {
			t.Errorf("%s: canary in temp or log files: %s", h.Name, tmp.Stdout)
		}
		runOnHost(t, h.Name, "rm -f /root/ps-sample")
	}
	// The controller's temp folder: files written since the test began,
	// but for the test's own secrets file and the lab hosts' disks (which
	// live in the lab state folder, itself under /tmp when the repository
	// is: the hosts' own files were checked above).
	find := exec.Command("sh", "-c", "find /tmp -xdev -type f -newermt @"+fmt.Sprint(start.Unix())+" -size -4M"+
		" -not -path "+shellQuote(filepath.Join(repoRoot, ".lab")+"/*")+" 2>/dev/null | grep -v -F -e "+shellQuote(dir)+
		" | xargs -r grep -ls -F -e "+strings.Join(quoteAll(values(canaries)), " -e ")+" ; true")
	if out, _ := find.Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("canary in the controller's temp files:\n%s", out)
	}

	modes := map[string]map[string]string{
		"lb-01": {"/etc/haproxy/certs/site.pem": "600 root root", "/etc/keepalived/keepalived.conf": "600 root root"},
		"db-01": {"/etc/prometheus/mysqld-exporter.cnf": "640 root prometheus"},
	}
	for host, files := range modes {
		for f, want := range files {
			if got := strings.TrimSpace(mustOnHost(t, host, "stat -c '%a %U %G' "+f)); got != want {
				t.Errorf("%s:%s is %q, want %q", host, f, got, want)
			}
		}
	}
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = shellQuote(s)
	}
	return out
}
