package lab

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// labSecrets are the secret variables the built-in roles need, with the
// length of the random value each gets. (No keepalived_auth_pass: the
// keepalived role speaks VRRPv3, which has no authentication.)
var labSecrets = []struct {
	name string
	size int
}{
	{"mysql_app_password", 24},
	{"mysql_replication_password", 24},
	{"monitoring_mysqld_exporter_password", 24},
}

// SecretsFile is where the lab keeps the secrets its inventory reads.
func (s Spec) SecretsFile() string { return filepath.Join(s.StateDir, "secrets.yml") }

// ensureSecrets writes random lab passwords, mode 0600, unless the file
// exists: a lab keeps its passwords for as long as its hosts live.
func (s Spec) ensureSecrets() error {
	path := s.SecretsFile()
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lab secrets: %w", err)
	}
	var b strings.Builder
	b.WriteString("# Lab passwords, made by `ferry lab up`; removed by `ferry lab down`.\n")
	for _, sec := range labSecrets {
		raw := make([]byte, sec.size)
		if _, err := rand.Read(raw); err != nil {
			return fmt.Errorf("lab secrets: %w", err)
		}
		fmt.Fprintf(&b, "%s: %s\n", sec.name, base64.RawURLEncoding.EncodeToString(raw)[:sec.size])
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("lab secrets: %w", err)
	}
	return os.Rename(tmp, path)
}
