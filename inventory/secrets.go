package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
	"filippo.io/age/armor"
	"go.yaml.in/yaml/v3"

	"github.com/ferry-deploy/ferry/internal/mask"
)

// Environment variables that unlock an age-encrypted secrets file.
const (
	// EnvAgeIdentity names an age identity file (as written by age-keygen).
	EnvAgeIdentity = "FERRY_AGE_IDENTITY"
	// EnvSecretsPassphrase is the passphrase of a file encrypted with
	// `age --passphrase` (an scrypt recipient).
	EnvSecretsPassphrase = "FERRY_SECRETS_PASSPHRASE"
)

// Mask replaces every secret value in output.
const Mask = mask.Mask

// maxSecretsSize bounds what a decrypted secrets file may grow to in memory.
const maxSecretsSize = 1 << 20

// loadSecrets reads the `secrets:` file: "name: value" YAML, encrypted with
// age, or in plain text when only its owner can read it. Values stay in
// memory; no message written here ever includes one.
func (b *builder) loadSecrets() {
	at := b.secrets
	path := resolvePath(b.dir, at.name)
	fail := func(format string, args ...any) {
		b.add(at.file, at.line, "secrets %s: %s", path, fmt.Sprintf(format, args...))
	}
	info, err := os.Stat(path)
	if err != nil {
		fail("%s", errText(err))
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%s", errText(err))
		return
	}
	plain := data
	if isAge(data) {
		if plain, err = decryptAge(data); err != nil {
			fail("%v", err)
			return
		}
	} else if perm := info.Mode().Perm(); perm&0o077 != 0 {
		fail("not encrypted and readable by others (mode %04o): encrypt it with age or chmod 600 it", perm)
		return
	}
	b.parseSecrets(path, plain)
}

// parseSecrets reads name: value pairs. YAML errors are reduced to their
// line, because the parser's messages may quote the text around the error.
func (b *builder) parseSecrets(path string, plain []byte) {
	var doc yaml.Node
	if err := yaml.Unmarshal(plain, &doc); err != nil {
		line := 0
		if m := yamlErrRe.FindStringSubmatch(err.Error()); m != nil {
			fmt.Sscan(m[1], &line)
		}
		b.add(path, line, "invalid YAML in the secrets file")
		return
	}
	if len(doc.Content) == 0 {
		return
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		b.add(path, root.Line, "the secrets file must be a mapping of name: value")
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := deref(root.Content[i]), deref(root.Content[i+1])
		switch {
		case k.Kind != yaml.ScalarNode || !validVarName(k.Value):
			b.add(path, k.Line, "invalid secret name: use letters, digits and '_'")
		case v.Kind != yaml.ScalarNode:
			b.add(path, k.Line, "secret %q must be a single value", k.Value)
		default:
			if _, dup := b.inv.Secrets[k.Value]; dup {
				b.add(path, k.Line, "secret %q is defined twice", k.Value)
				continue
			}
			b.inv.Secrets[k.Value] = v.Value
			if where := b.varOwner(k.Value); where != "" {
				b.add(path, k.Line, "secret %q has the name of a variable of %s", k.Value, where)
			}
		}
	}
}

// varOwner names a group or host that has a variable called name: secrets
// and vars share one namespace, so a clash would hide one of them.
func (b *builder) varOwner(name string) string {
	for _, g := range b.groupSeq {
		if _, ok := b.groups[g].g.Vars[name]; ok {
			return fmt.Sprintf("group %q", g)
		}
	}
	for _, h := range b.inv.Hosts {
		if _, ok := h.Vars[name]; ok {
			return fmt.Sprintf("host %q", h.Name)
		}
	}
	return ""
}

// checkBecome reports become_password settings that name no secret.
func (b *builder) checkBecome() {
	var patches []connPatch
	for _, g := range b.groupSeq {
		patches = append(patches, b.groups[g].conn)
	}
	for _, h := range b.inv.Hosts {
		patches = append(patches, b.hosts[h.Name].conn)
	}
	patches = append(patches, b.becomeRefs...)
	for _, p := range patches {
		if p.BecomePassword == nil {
			continue
		}
		name, at := *p.BecomePassword, p.becomeAt
		switch {
		case b.secrets.name == "":
			b.add(at.file, at.line, "become_password names secret %q, but the inventory has no secrets file", name)
		case len(b.list) == 0 && !hasKey(b.inv.Secrets, name):
			b.add(at.file, at.line, "become_password: no secret %q in %s", name, b.secrets.name)
		}
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func isAge(data []byte) bool {
	return bytes.HasPrefix(data, []byte("age-encryption.org/v1\n")) ||
		bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(armor.Header))
}

// decryptAge decrypts with the identities the environment provides.
func decryptAge(data []byte) ([]byte, error) {
	var ids []age.Identity
	if path := os.Getenv(EnvAgeIdentity); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvAgeIdentity, err)
		}
		parsed, err := age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvAgeIdentity, path, err)
		}
		ids = append(ids, parsed...)
	}
	if pass := os.Getenv(EnvSecretsPassphrase); pass != "" {
		id, err := age.NewScryptIdentity(pass)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvSecretsPassphrase, err)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("encrypted with age: set %s to an identity file or %s to its passphrase", EnvAgeIdentity, EnvSecretsPassphrase)
	}
	var r io.Reader = bytes.NewReader(data)
	if !bytes.HasPrefix(data, []byte("age-encryption.org/v1\n")) {
		r = armor.NewReader(bytes.NewReader(bytes.TrimLeft(data, " \t\r\n")))
	}
	dr, err := age.Decrypt(r, ids...)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(dr, maxSecretsSize+1))
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	if len(plain) > maxSecretsSize {
		return nil, errors.New("decrypted secrets exceed 1 MiB")
	}
	return plain, nil
}

// Redact masks every secret value in s, as package mask describes: each
// line of a multi-line value too, JSON-escaped forms, and values shorter
// than mask.MinSubstring only as whole words.
func (inv *Inventory) Redact(s string) string {
	if inv == nil || len(inv.Secrets) == 0 {
		return s
	}
	values := make([]string, 0, len(inv.Secrets))
	for _, v := range inv.Secrets {
		values = append(values, v)
	}
	return mask.New(values).Redact(s)
}
