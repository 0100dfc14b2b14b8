#!/bin/sh
# With NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE set: worker_processes = the CPUs the container may
# use (online CPUs, capped by its cgroup's cpuset and CPU quota, v1 or v2).
set -eu
me=$(basename "$0")
[ -n "${NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE:-}" ] || exit 0
touch /etc/nginx/nginx.conf 2>/dev/null || { echo >&2 "$me: error: can not modify /etc/nginx/nginx.conf (read-only file system?)"; exit 0; }
count_cpus() {  # a cpuset list such as 0-3,6 -> 5
	n=0
	for part in $(echo "$1" | tr ',' ' '); do
		case "$part" in
			*-*) n=$((n + ${part#*-} - ${part%-*} + 1)) ;;
			?*) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}
cpus=$(getconf _NPROCESSORS_ONLN)
for file in /sys/fs/cgroup/cpuset.cpus.effective /sys/fs/cgroup/cpuset/cpuset.effective_cpus; do
	if [ -r "$file" ] && [ -n "$(cat "$file")" ]; then
		n=$(count_cpus "$(cat "$file")")
		[ "$n" -gt 0 ] && [ "$n" -lt "$cpus" ] && cpus=$n
		break
	fi
done
quota=
if [ -r /sys/fs/cgroup/cpu.max ]; then
	read -r max period </sys/fs/cgroup/cpu.max
	[ "$max" != max ] && quota=$(((max + period - 1) / period))
elif [ -r /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
	max=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)
	period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)
	[ "$max" -gt 0 ] && [ "$period" -gt 0 ] && quota=$(((max + period - 1) / period))
fi
if [ -n "$quota" ] && [ "$quota" -gt 0 ] && [ "$quota" -lt "$cpus" ]; then cpus=$quota; fi
sed -i.bak -r "s/^(worker_processes)(.*)$/# Commented out by $me on $(date)\n#\1\2\n\1 $cpus;/" /etc/nginx/nginx.conf
