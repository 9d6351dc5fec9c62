package modules

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// Modules that steer a play rather than change a host: fail, assert,
// debug and set_fact. They read nothing and change nothing, so they plan
// the same in check mode and in a real run.

func init() {
	register("fail", []string{"msg"}, nil, func(a *argReader) (Module, error) {
		return failModule{msg: a.str("msg", "failed as the role asked (fail)")}, nil
	})
	register("assert", []string{"that", "fail_msg", "success_msg"}, []string{"that"}, func(a *argReader) (Module, error) {
		m := assertModule{failMsg: a.str("fail_msg", ""), successMsg: a.str("success_msg", "")}
		if list, isList := a.m["that"].([]any); isList {
			for _, v := range list {
				m.that = append(m.that, fmt.Sprint(v))
			}
		} else {
			m.that = []string{fmt.Sprint(a.m["that"])}
		}
		return m, nil
	})
	register("debug", []string{"msg"}, []string{"msg"}, func(a *argReader) (Module, error) {
		return debugModule{msg: fmt.Sprint(a.m["msg"])}, nil
	})
	Register(Spec{Name: "set_fact", AnyArgs: true, New: func(args map[string]any) (Module, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("set_fact: no variable to set")
		}
		return setFactModule{facts: maps.Clone(args)}, nil
	}})
}

type failModule struct{ msg string }

func (m failModule) Plan(context.Context, *Target) (Change, error) {
	return Change{}, fmt.Errorf("%s", m.msg)
}
func (m failModule) Apply(_ context.Context, _ *Target, c Change) (Change, error) {
	return c, nil
}

// assertModule gets its conditions rendered: the role loader made each
// one a template that gives true or false (a bool, or its text).
type assertModule struct {
	that                []string
	failMsg, successMsg string
}

func (m assertModule) Plan(context.Context, *Target) (Change, error) {
	for i, v := range m.that {
		switch strings.TrimSpace(v) {
		case "true":
			continue
		case "false":
			if m.failMsg != "" {
				return Change{}, fmt.Errorf("%s", m.failMsg)
			}
			return Change{}, fmt.Errorf("assertion %d of %d is false", i+1, len(m.that))
		default:
			return Change{}, fmt.Errorf("assert: condition %d must give true or false", i+1)
		}
	}
	return Change{Output: &executor.Result{Stdout: []byte(m.successMsg)}}, nil
}

func (m assertModule) Apply(_ context.Context, _ *Target, c Change) (Change, error) { return c, nil }

// debugModule shows its message (the task's event message) and registers
// it as stdout.
type debugModule struct{ msg string }

func (m debugModule) Plan(context.Context, *Target) (Change, error) {
	return Change{Output: &executor.Result{Stdout: []byte(m.msg)}, Message: m.msg}, nil
}

func (m debugModule) Apply(_ context.Context, _ *Target, c Change) (Change, error) { return c, nil }

// setFactModule sets variables for the host's later tasks: they win over
// every variable but -e extra variables, as Ansible's set_fact.
type setFactModule struct{ facts map[string]any }

func (m setFactModule) Plan(context.Context, *Target) (Change, error) {
	return Change{Facts: m.facts}, nil
}

func (m setFactModule) Apply(_ context.Context, _ *Target, c Change) (Change, error) { return c, nil }
