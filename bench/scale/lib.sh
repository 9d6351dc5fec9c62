# Shared settings of the scale lab (sourced by up.sh, down.sh, run.sh).
# Everything the scale lab makes lives in these places, and down.sh removes
# all of them:
#   - network namespace $SCALE_NS (holds bridge br-scale, 198.18.0.1/24);
#   - one network namespace per host, fs-hNNN, with veth eth0 on br-scale;
#   - one sshd per host (the controller's /usr/sbin/sshd, its own config,
#     host key and pid file), started in the host's namespace;
#   - the state folder $SCALE_DIR (keys, known_hosts, inventory, host roots).
SCALE_NS=${SCALE_NS:-ferry-scale}
SCALE_BRIDGE=br-scale
SCALE_DIR=${SCALE_DIR:-/tmp/ferry-scale}
SCALE_PREFIX=198.18.0
SCALE_FIRST=10          # host i (1-based) gets $SCALE_PREFIX.$((SCALE_FIRST+i-1))
SCALE_MAX=240

scale_name() { printf 'h%03d' "$1"; }
scale_addr() { echo "$SCALE_PREFIX.$((SCALE_FIRST + $1 - 1))"; }
