# Shared settings of the scale lab (sourced by up.sh, down.sh, run.sh,
# shards.sh). Everything the scale lab makes lives in these places, and
# down.sh removes all of them:
#   - network namespace $SCALE_NS (holds bridge br-scale, 198.18.0.1/24);
#   - one network namespace per address, $SCALE_NS-aNNN (NNN: the
#     address's last byte), with veth eth0 on br-scale;
#   - one sshd per host (the controller's /usr/sbin/sshd, its own config,
#     host key and pid file), started in its address's namespace;
#   - the cpuacct cgroup $SCALE_CGROUP holding every sshd and the sessions
#     they fork, so the hosts' side CPU is measured apart from the rest of
#     this shared machine (only where cgroup v1 cpuacct is mounted);
#   - the state folder $SCALE_DIR (keys, known_hosts, inventory, host roots).
# Two scale labs can run side by side with different SCALE_NS and SCALE_DIR
# (e.g. SCALE_NS=ferry-scale2 SCALE_DIR=/tmp/ferry-scale2).
#
# Addresses: the whole lab stays inside 198.18.0.0/24 (the benchmark range),
# which has room for $SCALE_ADDRS host addresses. Past that, hosts share
# addresses: host i (1-based) gets address slot (i-1) mod $SCALE_ADDRS and
# port 22 for the first $SCALE_ADDRS hosts, then 2201, 2202, ... So up to
# 240 hosts the lab is one address per host, as before, and 1000 hosts are
# 240 namespaces with 4 or 5 sshds each, every sshd with its own host key.
SCALE_NS=${SCALE_NS:-ferry-scale}
SCALE_BRIDGE=br-scale
SCALE_DIR=${SCALE_DIR:-/tmp/ferry-scale}
SCALE_CGROUP=/sys/fs/cgroup/cpuacct/$SCALE_NS
SCALE_PREFIX=198.18.0
SCALE_FIRST=10          # first address slot: $SCALE_PREFIX.10
SCALE_ADDRS=${SCALE_ADDRS:-240} # address slots: .10 to .249 (fewer to try the shared addresses)
SCALE_MAX=1200          # 5 ports per address

scale_name() { printf 'h%04d' "$1"; }
scale_addr() { echo "$SCALE_PREFIX.$((SCALE_FIRST + ($1 - 1) % SCALE_ADDRS))"; }
scale_port() {
	local slot=$((($1 - 1) / SCALE_ADDRS))
	if ((slot == 0)); then echo 22; else echo $((2200 + slot)); fi
}
# scale_ns I: the network namespace of host I's address.
scale_ns() { echo "$SCALE_NS-a$((SCALE_FIRST + ($1 - 1) % SCALE_ADDRS))"; }
# scale_hosts_cpu: nanoseconds of CPU used so far by the hosts' sshds and
# everything they started; empty when the cgroup is not there.
scale_hosts_cpu() { cat "$SCALE_CGROUP/cpuacct.usage" 2>/dev/null || true; }
# The hosts' sshds and ferry run at this niceness: the machine is shared,
# and the benchmark should yield to interactive work rather than starve it.
SCALE_NICE=${SCALE_NICE:-10}
# The hosts' working roots (host NNNN's is $SCALE_ROOTS/hNNNN). Inside
# $SCALE_DIR they go with the lab; set a folder outside it to keep the
# hosts' converged files from one lab to the next (run.sh's untimed converge
# of 1000 hosts then changes little instead of everything).
SCALE_ROOTS=${SCALE_ROOTS:-$SCALE_DIR/roots}
