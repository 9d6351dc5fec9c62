package inventory

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/ferry-deploy/ferry/internal/testfs"
)

// canary is a secret value that must never show up in an error or in
// redacted output.
const canary = "CANARY-7f3a9c-s3cr3t"

const secretsPlain = "db_password: " + canary + "\nsudo_pw: hunter2-longer\n"

const secretsInv = `
secrets: secrets.age
connection: {become: true, become_password: sudo_pw}
groups:
  db:
    hosts:
      db-01: {address: 198.18.0.31}
`

func encrypt(t *testing.T, plain string, armored bool, r age.Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	var dst io.Writer = &buf
	var aw io.WriteCloser
	if armored {
		aw = armor.NewWriter(&buf)
		dst = aw
	}
	w, err := age.Encrypt(dst, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestSecrets(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	scrypt, err := age.NewScryptRecipient("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	scrypt.SetWorkFactor(10) // fast in tests; real files use age's default
	idFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		inv      string // file name; content secretsInv unless invText
		invText  string
		secrets  []byte
		mode     os.FileMode
		identity string
		pass     string
		wantErr  string
	}{
		{name: "x25519", secrets: encrypt(t, secretsPlain, false, id.Recipient()), identity: idFile},
		{name: "x25519 armored", secrets: encrypt(t, secretsPlain, true, id.Recipient()), identity: idFile},
		{name: "passphrase", secrets: encrypt(t, secretsPlain, false, scrypt), pass: "correct horse"},
		{name: "plain text 0600", secrets: []byte(secretsPlain), mode: 0o600},
		{name: "plain text 0400", secrets: []byte(secretsPlain), mode: 0o400},
		{name: "ini ferry_secrets", inv: "hosts",
			invText: "[db]\ndb-01 ansible_host=198.18.0.31 ansible_become=true ansible_become_password='{{ sudo_pw }}'\n[all:vars]\nferry_secrets=secrets.age\n",
			secrets: []byte(secretsPlain), mode: 0o600},
		{name: "ansible yaml ferry_secrets", inv: "hosts.yml",
			invText: "all:\n  vars: {ferry_secrets: secrets.age}\n  hosts:\n    db-01: {ansible_host: 198.18.0.31, ansible_become: true, ansible_become_password: '{{ sudo_pw }}'}\n",
			secrets: []byte(secretsPlain), mode: 0o600},
		{name: "plain text readable by group", secrets: []byte(secretsPlain), mode: 0o640,
			wantErr: "secrets.age: not encrypted and readable by others (mode 0640): encrypt it with age or chmod 600 it"},
		{name: "no identity", secrets: encrypt(t, secretsPlain, false, id.Recipient()),
			wantErr: "set FERRY_AGE_IDENTITY to an identity file or FERRY_SECRETS_PASSPHRASE"},
		{name: "wrong identity", secrets: encrypt(t, secretsPlain, false, other.Recipient()), identity: idFile,
			wantErr: "decrypt: identity did not match any of the recipients"},
		{name: "wrong passphrase", secrets: encrypt(t, secretsPlain, false, scrypt), pass: "wrong",
			wantErr: "decrypt:"},
		{name: "missing file", wantErr: "secrets.age: no such file or directory"},
		{name: "missing secret", secrets: []byte("db_password: " + canary + "\n"), mode: 0o600,
			wantErr: `inv.yml:3: become_password: no secret "sudo_pw" in secrets.age`},
		{name: "clash with a var", invText: strings.Replace(secretsInv, "groups:", "vars: {db_password: x}\ngroups:", 1),
			secrets: []byte(secretsPlain), mode: 0o600,
			wantErr: `secrets.age:1: secret "db_password" has the name of a variable of group "all"`},
		{name: "broken yaml keeps the value out", secrets: []byte("sudo_pw: x\ndb_password: [" + canary + "\n"), mode: 0o600,
			wantErr: "invalid YAML in the secrets file"},
		{name: "nested value", secrets: []byte("sudo_pw: {a: " + canary + "}\n"), mode: 0o600,
			wantErr: `secrets.age:1: secret "sudo_pw" must be a single value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvAgeIdentity, tt.identity)
			t.Setenv(EnvSecretsPassphrase, tt.pass)
			name, text := "inv.yml", secretsInv
			if tt.inv != "" {
				name = tt.inv
			}
			if tt.invText != "" {
				text = tt.invText
			}
			dir := testfs.WriteTree(t, map[string]string{name: text})
			if tt.secrets != nil {
				mode := tt.mode
				if mode == 0 {
					mode = 0o644 // encrypted files need no tight mode
				}
				p := filepath.Join(dir, "secrets.age")
				if err := os.WriteFile(p, tt.secrets, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, mode); err != nil {
					t.Fatal(err)
				}
			}
			inv, err := Load(filepath.Join(dir, name))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Load succeeded, want error %q", tt.wantErr)
				}
				msg := strings.ReplaceAll(err.Error(), dir+"/", "")
				if !strings.Contains(msg, tt.wantErr) {
					t.Errorf("error = %q, want it to contain %q", msg, tt.wantErr)
				}
				if strings.Contains(msg, canary) {
					t.Errorf("error leaks the secret: %q", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if inv.Secrets["db_password"] != canary || inv.Secrets["sudo_pw"] != "hunter2-longer" {
				t.Errorf("Secrets = %d values, want db_password and sudo_pw", len(inv.Secrets))
			}
			h := inv.Host("db-01")
			if h.Conn.BecomePasswordVar != "sudo_pw" || !h.Conn.Become {
				t.Errorf("connection = %+v, want become with sudo_pw", h.Conn)
			}
			if got := inv.VarsFor(h, map[string]any{"db_password": "default"}, nil)["db_password"]; got != canary {
				t.Errorf("the secret is not a var above role defaults")
			}
		})
	}
}

func TestRedact(t *testing.T) {
	inv := &Inventory{Secrets: map[string]string{
		"db_password": canary,
		"short":       "CANARY", // inside the canary: the longer one must win
		"empty":       "",
	}}
	tests := []struct{ in, want string }{
		{"password=" + canary + ";", "password=********;"},
		{canary + canary, "****************"},
		{"CANARY alone", "******** alone"},
		{"nothing secret", "nothing secret"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := inv.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := (&Inventory{}).Redact(canary); got != canary {
		t.Errorf("Redact without secrets changed the text: %q", got)
	}
}
