package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/adhoc"
)

// runFlags are the options of `ferry run`.
type runFlags struct {
	become         bool
	becomeUser     string
	commandTimeout time.Duration
	output         string
	noCollapse     bool
	noProgress     bool
	env            []string
	extra          []string
	module         string
	moduleArgs     string
	check, diff    bool
	fanoutFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run PATTERN (-- COMMAND [ARGS...] | -m MODULE -a ARGS)",
		Short: "Run one command or one module on the hosts matching a pattern, now",
		Long: `run is ad hoc work without a role. With "-- COMMAND" it runs the command
with /bin/sh on every host matching PATTERN (the patterns of --limit), in
parallel, over the same connections as deploy (user, key, known_hosts, jump
hosts, sudo), and prints each host's output and exit code. Hosts whose
output is identical are shown once, headed by the host list. The words
after -- are joined with spaces, as ssh does, so quote what the remote shell
must see as one word.

With -m MODULE -a ARGS it runs one of ferry's modules instead, as one task of
a deploy: facts are read, --check plans without changing anything, and --diff
shows what a file would become. ARGS is 'key=value ...' or a YAML/JSON
mapping; string values are templates over the host's variables.

Secrets never go on a command line: pass them to the command through
--env NAME='{{ .secret_name }}', which reaches the command on its stdin.
Every output masks secret values.

Exit codes: 0 every host exited 0, 1 a command or module failed, 2 a host was
unreachable, 3 bad input.`,
		Example: `  ferry run web -i lab/inventory.yml -- hostname
  ferry run 'all:!db' -i lab/inventory.yml --become -- systemctl is-active nginx
  ferry run db -i lab/inventory.yml --env PW='{{ .mysql_app_password }}' -- 'mysql -uapp -p"$PW" -e "select 1"'
  ferry run web -i lab/inventory.yml -m copy -a 'dest=/tmp/x content=y' --check --diff
  ferry run web -i lab/inventory.yml -m package -a names=htop`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return badInput(errors.New("run: give a host pattern, then -- COMMAND or -m MODULE"))
			}
			return nil
		},
		ValidArgsFunction: completePatternArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			pattern, command := args[0], args[1:]
			if dash == 0 {
				return badInput(errors.New("run: the host pattern comes before --"))
			}
			if dash < 0 && len(command) > 0 {
				return badInput(fmt.Errorf("run: unexpected %q: put the command after --", command[0]))
			}
			if dash > 1 {
				return badInput(fmt.Errorf("run: one host pattern before --, got %d words", dash))
			}
			return runAdhoc(cmd, f, pattern, command)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.become, "become", "b", false, "run through sudo (as root)")
	fl.StringVar(&f.becomeUser, "become-user", "", "run as this user (through sudo and runuser); implies --become")
	fl.DurationVar(&f.commandTimeout, "command-timeout", 0, "stop the command on a host after this long (default: no limit)")
	fl.StringVarP(&f.output, "output", "o", "human", "output format: human or json (one object per host, then a recap)")
	fl.BoolVar(&f.noCollapse, "no-collapse", false, "print every host's output on its own, even when identical")
	fl.BoolVar(&f.noProgress, "no-progress", false, "no live status area on a terminal")
	fl.StringArrayVar(&f.env, "env", nil, "NAME=TEMPLATE exported to the command, rendered per host (secrets go here; repeatable)")
	fl.StringArrayVarP(&f.extra, "extra-vars", "e", nil, "extra variable k=v or @file.yml for templates (repeatable)")
	fl.StringVarP(&f.module, "module", "m", "", "run this ferry module instead of a command")
	fl.StringVarP(&f.moduleArgs, "args", "a", "", "the module's arguments: 'key=value ...' or a YAML/JSON mapping")
	fl.BoolVar(&f.check, "check", false, "with -m: plan only, change nothing")
	fl.BoolVar(&f.diff, "diff", false, "with -m: show a unified diff for every file that changes (or would)")
	f.fanoutFlags.register(fl, "how many hosts work at once")
	registerOutputCompletion(cmd)
	_ = cmd.RegisterFlagCompletionFunc("module", completeModules)
	return cmd
}

func runAdhoc(cmd *cobra.Command, f runFlags, pattern string, command []string) error {
	if err := f.fanoutFlags.check(); err != nil {
		return err
	}
	if err := checkOutputFormat(f.output); err != nil {
		return err
	}
	switch {
	case f.module == "" && len(command) == 0:
		return badInput(errors.New("run: nothing to run: give -- COMMAND or -m MODULE"))
	case f.module != "" && len(command) > 0:
		return badInput(errors.New("run: give either -- COMMAND or -m MODULE, not both"))
	case f.module == "" && (cmd.Flags().Changed("args") || cmd.Flags().Changed("check") || cmd.Flags().Changed("diff")):
		// Only when typed: check or diff set in ferry.yaml for deploy must
		// not break a plain command.
		return badInput(errors.New("run: -a, --check and --diff go with -m MODULE"))
	case f.module != "" && len(f.env) > 0:
		return badInput(errors.New("run: --env goes with -- COMMAND; a module takes its values in -a"))
	}
	inv, hosts, err := selectHosts(cmd, pattern)
	if err != nil {
		return err
	}
	extra, err := parseExtraVars(f.extra)
	if err != nil {
		return badInput(err)
	}
	if f.module != "" {
		return runModule(cmd, f, inv, hosts, extra)
	}
	script := strings.Join(command, " ")
	if inv.Redact(script) != script {
		return badInput(errors.New("run: the command holds a secret value, which would show in the hosts' process lists; pass it with --env NAME='{{ .secret_name }}'"))
	}
	env, err := renderEnv(inv, hosts, f.env, extra)
	if err != nil {
		return badInput(err)
	}
	live := startLive(cmd, f.output, f.noProgress, len(hosts), hosts)
	results := adhoc.Run(cmd.Context(), hosts, adhoc.Options{
		Script: script, Env: env,
		Become: f.become, BecomeUser: f.becomeUser,
		Forks: f.forks, CommandTimeout: f.commandTimeout,
		Connect:  f.conn.connector(inv),
		Progress: live.adhocProgress(),
	})
	live.close()
	w := cmd.OutOrStdout()
	if f.output == "json" {
		err = adhoc.WriteJSON(w, results, inv.Redact)
	} else {
		err = adhoc.WriteHuman(w, adhoc.Collapse(results, !f.noCollapse), adhoc.Summarize(results), inv.Redact)
	}
	if err != nil {
		return err
	}
	sum := adhoc.Summarize(results)
	return outcome{unreachable: sum.Unreachable, failed: sum.Failed, interrupted: cmd.Context().Err() != nil}.err()
}

// renderEnv renders the --env templates for every host, before anything
// runs: a template error is bad input naming the variable.
func renderEnv(inv *inventory.Inventory, hosts []*inventory.Host, specs []string, extra map[string]any) (map[string]map[string]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	type pair struct{ name, tmpl string }
	var pairs []pair
	for _, s := range specs {
		name, tmpl, ok := strings.Cut(s, "=")
		if !ok || !validEnvName(name) {
			return nil, fmt.Errorf("--env %q: want NAME=TEMPLATE with NAME of letters, digits and _", s)
		}
		pairs = append(pairs, pair{name, tmpl})
	}
	r := newRenderer(inv, extra)
	out := map[string]map[string]string{}
	for _, h := range hosts {
		data := inv.VarsFor(h, nil, extra)
		data["inventory_hostname"] = h.Name
		env := map[string]string{}
		for _, p := range pairs {
			v, err := r.Render("--env "+p.name, p.tmpl, data)
			if err != nil {
				return nil, fmt.Errorf("host %s: %s", h.Name, inv.Redact(err.Error()))
			}
			env[p.name] = v
		}
		out[h.Name] = env
	}
	return out, nil
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
