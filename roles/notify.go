package roles

import (
	"fmt"
	"slices"
	"strings"
)

// CheckNotify makes sure every notify of a play's roles names a handler,
// or a listen topic, of one of them: notify reaches the handlers of every
// role of the play (and of the roles they include), as in Ansible. It is
// checked per play, as a role alone cannot know the roles it will run
// beside. The error names the file and line of the notify.
func CheckNotify(rs []*Role) error {
	var names, roleNames []string
	for _, r := range rs {
		roleNames = append(roleNames, r.Name)
		for _, h := range r.Handlers {
			names = append(names, h.Name)
			names = append(names, h.Listen...)
		}
	}
	seen := map[*Role]bool{}
	for _, r := range rs {
		if seen[r] {
			continue
		}
		seen[r] = true
		for _, list := range [][]*Task{Flatten(r.Tasks), r.Handlers} {
			for _, t := range list {
				for _, n := range t.Notify {
					if slices.Contains(names, n) {
						continue
					}
					msg := fmt.Sprintf("notify: no handler named %q", n)
					if len(names) == 0 {
						msg += fmt.Sprintf(" (no role of the play has handlers: %s)", strings.Join(roleNames, ", "))
					} else {
						msg += " in the roles of the play (" + strings.Join(roleNames, ", ") + ")" + didYouMean(n, names)
					}
					file := t.File
					if file == "" {
						file = t.Role.Source
					}
					return errorf(file, t.NotifyLine, "%s", msg)
				}
			}
		}
	}
	return nil
}
