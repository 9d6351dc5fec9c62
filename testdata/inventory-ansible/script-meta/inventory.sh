#!/bin/sh
# A dynamic inventory with _meta.hostvars: no --host calls needed.
case "$1" in
--list) cat <<'JSON'
{
  "web": {"hosts": ["web01", "web02"], "vars": {"http_port": 80, "ratio": 0.5, "ansible_user": "deploy"}},
  "db": ["db01"],
  "frontend": {"children": ["web"], "vars": {"ansible_group_priority": 3, "tier": "front"}},
  "edge": {"hosts": ["web02"], "vars": {"tier": "edge"}},
  "all": {"vars": {"ntp": "ntp.example.com"}},
  "_meta": {"hostvars": {
    "web01": {"ansible_host": "198.18.0.21", "list": [1, "a", null], "obj": {"k": true}},
    "db01": {"ansible_host": "198.18.0.31", "ansible_port": 2222},
    "ghost": {"not": "listed in any group"}
  }}
}
JSON
;;
--host) echo '{}' ;;
*) echo "usage: $0 --list | --host NAME" >&2; exit 2 ;;
esac
