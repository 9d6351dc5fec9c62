#!/usr/bin/python3
"""Run `ansible-inventory -i PATH --list` for each PATH on the command line.

Importing Ansible is most of ansible-inventory's run time, so this imports
it once and runs each inventory in a forked child, through the same entry
point /usr/bin/ansible-inventory calls (ansible.cli.inventory.main), with
its own argv, stdout and stderr. Prints one JSON object:
{PATH: {"rc": exit code, "stdout": "...", "stderr": "..."}}.
"""
import json
import os
import sys
import tempfile

from ansible.cli.inventory import main


def run(path):
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.argv = ["ansible-inventory", "-i", path, "--list"]
        rc = 1
        try:
            rc = main()
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc or 0)
    _, status = os.waitpid(pid, 0)
    out.seek(0)
    err.seek(0)
    return {"rc": os.waitstatus_to_exitcode(status),
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace")}


print(json.dumps({p: run(p) for p in sys.argv[1:]}))
