#!/usr/bin/env python3
"""Write random Ansible inventories, for comparing ferry with Ansible at scale.

    python3 random_inventories.py DIR SEED COUNT [ini|yaml|json]
    FERRY_ORACLE_CORPUS=DIR go test ./inventory -run TestAgainstAnsibleInventory

Each case is DIR/NNN/inventory.* (with group_vars/ at times), built from the
features where ferry and ansible-core are most likely to part: ranges and
ports, Python-literal and YAML 1.1 values, connection variables at every
level, ansible_group_priority, children, vars files. Cases Ansible refuses
must be refused by ferry too. Expect only ferry's deliberate refusals
(doc/inventory.md) among the failures: an address given twice with two
values, a host named like a group.
"""
import json
import os
import random
import shutil
import sys

GROUPS = ['web', 'db', 'lb', 'app', 'mon', 'edge']
PY_VALUES = ['5', '"5"', "'5'", '[1,2]', '{"k":"v"}', 'true', 'True', 'None', 'null', '0777', '0x1f',
             '1.5', '1e3', '-3', 'yes', 'a#b', '"a b"', "'x # y'", 'web-01', '1_000', '(1,2)', '"a" "b"',
             "u'x'", '" spaced "', '{}', '[]', '1,2', '0', '00', '.5', '5.']
SECTION_VALUES = PY_VALUES + ['hello # c', '80 ; c', '42 # c', '= x', 'a=b', '  pad  ', '[1, 2] # c']
YAML_VALUES = ['yes', 'no', 'on', 'Off', '0755', '1:30', '1e3', '1.0e+3', '~', '"yes"', "'0755'", '[on, 2]',
               '{a: yes}', '2024-01-02', '0b11', '0x1F', '+5', '-0', '1_000', 'True', 'NULL', '', '5', '5.0',
               '"5"', 'hello world', "'x # y'", '0o17', '012', '09', '.5', '-.5e-3', '-1.5E+3']
JSON_VALUES = [1, 1.0, 2.5, "x", "yes", True, False, None, [1, "a"], {"k": {"n": 1}}, "", "5", 1e20, -3]
INI_HOSTS = ['h1', 'h2', 'h3', 'web[1:3]', 'db-[a:c]', 'n[01:04:2]', 'x.example.com', '[2001:db8::5]:2200',
             '10.0.0.[1:2]', 'fe80::9', 'h4:2201', 'lead[:2]']
YAML_HOSTS = ['h1', 'h2', 'web[1:3]', 'db-[a:c]', '"n[01:04:2]"', 'x.example.com', '"[2001:db8::5]:2200"',
              '10.0.0.[1:2]', 'fe80::9', '"h4:2201"']
JSON_HOSTS = ['h1', 'h2', 'h3', 'web[1:2]', 'h4:22', 'fe80::1', '10.0.0.1']


def conn_value(key, plain):
    if key in ('ansible_port', 'ansible_ssh_port'):
        return random.choice(['22', '2201', '2202'])
    if key in ('ansible_host', 'ansible_ssh_host'):
        return '10.9.9.%d' % random.randint(1, 9)
    if key == 'ansible_group_priority':
        return str(random.randint(0, 5))
    return random.choice(plain)


def vars_file(d, name):
    os.makedirs(os.path.join(d, 'group_vars'), exist_ok=True)
    keys = random.sample(['a', 'b', 'c', 'ansible_user', 'ansible_port', 'ansible_group_priority'], 2)
    body = ''.join('%s: %s\n' % (k, conn_value(k, YAML_VALUES)) for k in keys)
    with open(os.path.join(d, 'group_vars', name + random.choice(['', '.yml', '.yaml'])), 'w') as f:
        f.write(body)


def ini_case(d):
    keys = ['a', 'b', 'ansible_host', 'ansible_port', 'ansible_user', 'ansible_ssh_port', 'ansible_ssh_user', 'p-q']
    lines = [random.choice(['h0', 'h1 a=%s' % random.choice(PY_VALUES)]) for _ in range(random.randint(0, 2))]
    used = random.sample(GROUPS, random.randint(1, 5))
    defined = []
    for g in used:
        kind = random.choice(['hosts', 'hosts', 'children'])
        defined.append(g)
        lines.append('[%s%s]' % (g, '' if kind == 'hosts' else ':children'))
        if kind == 'children':
            lines += random.sample([x for x in used if x != g], min(2, len(used) - 1))
            continue
        for _ in range(random.randint(1, 3)):
            kv = ['%s=%s' % (k, conn_value(k, PY_VALUES)) for k in random.sample(keys, random.randint(0, 3))]
            lines.append(' '.join([random.choice(INI_HOSTS)] + kv))
    for g in defined + ['all']:
        if random.random() < 0.6:
            lines.append('[%s:vars]' % g)
            for k in random.sample(keys + ['ansible_group_priority'], random.randint(1, 3)):
                lines.append('%s=%s' % (k, conn_value(k, SECTION_VALUES)))
        if random.random() < 0.4:
            vars_file(d, g)
    with open(os.path.join(d, 'inventory.ini'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def yaml_case(d):
    keys = ['a', 'b', 'c', 'ansible_user', 'ansible_ssh_user', 'p-q', 'ansible_port', 'ansible_host']

    def block(indent, priority):
        ks = random.sample(keys + (['ansible_group_priority'] if priority else []), random.randint(1, 3))
        return [' ' * indent + '%s: %s' % (k, conn_value(k, YAML_VALUES)) for k in ks]

    def group(name, indent, depth, seen):
        lines = [' ' * indent + name + ':']
        if random.random() < 0.1:
            return lines
        if random.random() < 0.7:
            lines.append(' ' * (indent + 2) + 'hosts:')
            for h in random.sample(YAML_HOSTS, random.randint(1, 3)):
                lines.append(' ' * (indent + 4) + h + ':')
                if random.random() < 0.5:
                    lines += block(indent + 6, False)
        if random.random() < 0.6:
            lines.append(' ' * (indent + 2) + 'vars:')
            lines += block(indent + 4, name != 'all')
        kids = [g for g in GROUPS if g not in seen]
        if depth < 3 and kids and random.random() < 0.7:
            lines.append(' ' * (indent + 2) + 'children:')
            for k in random.sample(kids, min(len(kids), random.randint(1, 2))):
                lines += group(k, indent + 4, depth + 1, seen | {k})
        return lines

    lines = group('all', 0, 0, set())
    if random.random() < 0.3:
        lines += group(random.choice(GROUPS), 0, 1, set())
    with open(os.path.join(d, 'inventory.yml'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    for g in random.sample(GROUPS + ['all'], random.randint(0, 2)):
        vars_file(d, g)


def json_case(d):
    keys = ['a', 'b', 'ansible_host', 'ansible_port', 'ansible_user', 'ansible_group_priority']

    def value(k):
        return int(conn_value(k, ['0'])) if k in ('ansible_port', 'ansible_group_priority') else (
            conn_value(k, ['']) if k == 'ansible_host' else random.choice(JSON_VALUES))

    top, hosts = {}, set()
    for g in random.sample(GROUPS + ['all', 'ungrouped'], random.randint(1, 5)):
        hs = random.sample(JSON_HOSTS, random.randint(0, 3))
        hosts |= set(hs)
        if random.random() < 0.3:
            top[g] = hs
            continue
        e = {'hosts': hs}
        if random.random() < 0.6:
            e['vars'] = {k: value(k) for k in random.sample(keys, 2) if not (k == 'ansible_group_priority' and g == 'all')}
        if random.random() < 0.4 and g != 'ungrouped':
            e['children'] = random.sample([x for x in GROUPS if x != g], 1)
        top[g] = e
    top['_meta'] = {'hostvars': {h: {k: value(k) for k in random.sample(keys[:5], 2)} for h in hosts if random.random() < 0.7}}
    if random.random() < 0.2:
        top['_meta'] = {}
    with open(os.path.join(d, 'inventory.json'), 'w') as f:
        json.dump(top, f)


def main():
    out, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    make = {'ini': ini_case, 'yaml': yaml_case, 'json': json_case}[sys.argv[4] if len(sys.argv) > 4 else 'ini']
    random.seed(seed)
    shutil.rmtree(out, ignore_errors=True)
    for n in range(count):
        d = os.path.join(out, '%03d' % n)
        os.makedirs(d)
        make(d)


if __name__ == '__main__':
    main()
