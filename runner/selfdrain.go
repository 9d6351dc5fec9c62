package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
)

// selfDrain is the drain of hosts that take themselves out of service:
// the load balancers sharing a floating address. Only the host knows
// whether it holds the address and who can take it, so the work is a
// command on the host (the keepalived role's ferry-lb-handover): `COMMAND
// release` moves the address away and returns once another host serves it;
// `COMMAND return` makes the host a candidate again once it serves.
type selfDrain struct {
	d *inventory.Drain
}

// selfDrainScript runs the drain command with one argument. A host without
// the command (its first deploy) has nothing to hand over.
func selfDrainScript(d *inventory.Drain, arg string) string {
	return fmt.Sprintf(`cmd=%s
if ! [ -x "$cmd" ]; then echo "no $cmd"; exit 0; fi
exec timeout %d "$cmd" %s`, shq(d.Command), int(d.Timeout.Seconds()), arg)
}

func (s selfDrain) run(ctx context.Context, hr *hostRun, arg string) (string, error) {
	res, err := hr.exec.Run(ctx, executor.Command{Script: selfDrainScript(s.d, arg), Become: hr.host.Conn.Become})
	if err != nil {
		return "", err
	}
	if !res.OK() {
		msg := strings.TrimSpace(string(res.Stderr))
		if msg == "" {
			msg = fmt.Sprintf("exit %d", res.ExitCode)
		}
		return "", fmt.Errorf("%s %s: %s", s.d.Command, arg, msg)
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

func (s selfDrain) out(ctx context.Context, hr *hostRun) (string, error) {
	start := time.Now()
	out, err := s.run(ctx, hr, "release")
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(out, "no ") {
		return "nothing to hand over yet (" + out + ")", nil
	}
	return fmt.Sprintf("out of service by %s release in %s", s.d.Command, time.Since(start).Round(time.Millisecond)), nil
}

func (s selfDrain) back(ctx context.Context, hr *hostRun) error {
	_, err := s.run(ctx, hr, "return")
	return err
}
