// Package inventory loads the hosts, groups and variables ferry deploys to,
// from ferry's YAML format or from an Ansible INI inventory, and resolves
// variable precedence and host patterns.
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
// # Ansible INI
//
// Sections [group], [group:vars] and [group:children]; hosts before any
// section belong to "ungrouped". ansible_host (default: the host's name),
// ansible_port, ansible_user, ansible_ssh_private_key_file, ansible_become,
// ansible_become_password ("{{ secret_name }}") and a jump host in
// ansible_ssh_common_args ("-J bastion" or "-o ProxyJump=bastion") become
// connection settings, not vars. Roles and run order come from the site file
// beside the inventory (see SiteFile); ferry_secrets=FILE in [all:vars]
// names the secrets file.
//
// # Beside either format
//
// group_vars/NAME.yml, NAME.yaml or NAME/*.yml and host_vars/ likewise; they
// override the vars written in the inventory, and Ansible's connection
// variables in them work as in INI.
//
// # Precedence
//
// role defaults < secrets < all < parent group < child group < host < extra
// vars; see Inventory.VarsFor. Among groups of the same depth, the name
// decides (Ansible's rule). Connection settings follow the same ladder
// (inventory < groups < host).
//
// # Secrets
//
// The secrets file holds "name: value" YAML, encrypted with age (identity
// file in $FERRY_AGE_IDENTITY, or a passphrase in $FERRY_SECRETS_PASSPHRASE);
// a plain-text file is accepted only with mode 0600 or stricter. Values live
// in Inventory.Secrets and as vars; Inventory.Redact masks them in output.
package inventory
