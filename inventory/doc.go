// Package inventory loads the hosts, groups and variables ferry deploys to,
// from ferry's YAML format or from Ansible's inventories (INI, YAML,
// scripts, JSON), and resolves variable precedence and host patterns.
//
// # ferry's YAML format
//
//	connection: {user: root, private_key: ../.lab/id_ed25519, known_hosts: ../.lab/known_hosts}
//	vars: {site_name: www.ferry.test}
//	secrets: secrets.age          # optional; see below
//	order: [db, web, lb]          # run order; unnamed groups follow in declaration order
//	groups:
//	  db:
//	    roles: [common, firewall, mysql]
//	    vars: {mysql_port: 3306}
//	    children: [db_replicas]   # nested groups
//	    serial: 1                 # or "30%"
//	    max_fail_percentage: 0
//	    connection: {become: true}
//	    hosts:
//	      db-01: {address: 198.18.0.31, vars: {mysql_role: primary}}
//
// connection keys (top level, group, host): user, port, private_key,
// known_hosts, proxy_jump, become, become_password (the name of a secret)
// and timeout ("10s"). Paths are relative to the inventory's folder. A host
// also takes port and user directly. Every host needs an address; a host may
// be listed in several groups, and needs its address only once.
//
// # Ansible's formats
//
// Ansible INI, Ansible's YAML (all:/children:/hosts:/vars:), dynamic
// inventory scripts and JSON in the shape of ansible-inventory --list are
// read as ansible-core 2.14 reads them: host ranges, Python-literal typing
// of INI values, YAML 1.1 typing of YAML values, "ungrouped", and the
// connection variables (ansible_host, ansible_port, ansible_user,
// ansible_ssh_private_key_file, ansible_become, ansible_become_password as
// "{{ secret_name }}", a jump host in ansible_ssh_common_args) at any level.
// Roles and run order come from the site file beside the inventory (see
// SiteFile); ferry_secrets=FILE in [all:vars] (or in all's vars) names the
// secrets file.
// doc/inventory.md has the details, the refusals and the differences left;
// testdata/inventory-ansible is compared with ansible-inventory itself.
//
// # Beside any format
//
// group_vars/NAME and host_vars/NAME: the first of NAME (file or folder),
// NAME.yml, NAME.yaml and NAME.json, as Ansible finds them.
//
// # Precedence
//
// role defaults < secrets < all (inline) < groups (inline) <
// group_vars/all < group_vars/GROUP < host (inline) < host_vars/HOST <
// extra vars; see Inventory.VarsFor. Among groups: depth, then
// ansible_group_priority, then name (Ansible's rule). ferry's connection:
// settings follow inventory < groups < host, and in ferry's format
// Ansible's connection variables are such settings of their level; in
// Ansible's formats they rank like any variable.
//
// # Secrets
//
// The secrets file holds "name: value" YAML, encrypted with age (identity
// file in $FERRY_AGE_IDENTITY, or a passphrase in $FERRY_SECRETS_PASSPHRASE);
// a plain-text file is accepted only with mode 0600 or stricter. Values live
// in Inventory.Secrets and as vars; Inventory.Redact masks them in output.
package inventory
