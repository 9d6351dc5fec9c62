package modules

import (
	"context"
	"errors"
)

// FlushHandlers is the name of the task that runs the handlers notified so
// far, there and then, instead of at the end of the play (Ansible's
// `meta: flush_handlers`): a later role may need a reloaded service. The
// engine runs it; the module exists so that roles naming it load.
const FlushHandlers = "flush_handlers"

func init() {
	Register(Spec{Name: FlushHandlers, New: func(map[string]any) (Module, error) { return flushModule{}, nil }})
}

type flushModule struct{}

var errFlushByEngine = errors.New("flush_handlers is run by the engine, not as a module")

func (flushModule) Plan(context.Context, *Target) (Change, error) { return Change{}, errFlushByEngine }

func (flushModule) Apply(context.Context, *Target, Change) (Change, error) {
	return Change{}, errFlushByEngine
}
