#!/bin/sh
# A dynamic inventory without _meta: Ansible asks --host for each host.
case "$1" in
--list) echo '{"app": {"hosts": ["app1", "app2", "app3:2200"]}, "lone": ["x1"]}' ;;
--host)
	case "$2" in
	app1) echo '{"ansible_host": "10.1.0.1", "n": 1}' ;;
	app2) echo '{"n": 2.0, "s": "two"}' ;;
	*) echo '{}' ;;
	esac
	;;
esac
