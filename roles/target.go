package roles

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// userNameRE is what useradd accepts as a user name (Debian's default
// NAME_REGEX, with upper case and dots allowed as on most systems): a
// become_user never needs quoting, and can never be read as an option.
var userNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*\$?$`)

// targetKey reads delegate_to and become_user: where, and as whom, a task
// runs. delegate_to may be a template (a host chosen per host, checked
// against the inventory before anything runs); become_user is a plain
// user name, or a template.
func (p *parser) targetKey(t *Task, k string, v *yaml.Node) error {
	s, err := p.str(k, v)
	if err != nil {
		return err
	}
	if strings.TrimSpace(s) == "" {
		return errorf(p.file, v.Line, "%s must not be empty", k)
	}
	if strings.Contains(s, "{{") {
		if err := p.checkTemplate(k, v, s); err != nil {
			return err
		}
	} else if k == "become_user" && !userNameRE.MatchString(s) {
		return errorf(p.file, v.Line, "become_user %q is not a user name (letters, digits, _, . and -)", s)
	}
	if k == "delegate_to" {
		t.DelegateTo = s
	} else {
		t.BecomeUser = s
	}
	return nil
}
