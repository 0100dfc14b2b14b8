#!/usr/bin/env bash
# seccompose's entrypoint for rabbitmq:3.10 built from Debian's rabbitmq-server: the steps of the
# official image's docker-entrypoint.sh (docker-library/rabbitmq), written anew. For the rabbitmq
# commands, as root: give /var/lib/rabbitmq to rabbitmq (for the server) and re-run this script as
# rabbitmq through gosu. Refuse the environment variables the image no longer reads; use long node
# names when the host name is a full one. RABBITMQ_DEFAULT_USER / _PASS / _VHOST are read by the
# server itself on its first start.
set -euo pipefail
if [[ $1 == rabbitmq* ]] && [[ $(id -u) == 0 ]]; then
	if [[ $1 == rabbitmq-server ]]; then
		find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq '{}' +
	fi
	exec gosu rabbitmq "${BASH_SOURCE[0]}" "$@"
fi
retired=(
	RABBITMQ_DEFAULT_PASS_FILE RABBITMQ_DEFAULT_USER_FILE
	RABBITMQ_MANAGEMENT_SSL_CACERTFILE RABBITMQ_MANAGEMENT_SSL_CERTFILE RABBITMQ_MANAGEMENT_SSL_DEPTH
	RABBITMQ_MANAGEMENT_SSL_FAIL_IF_NO_PEER_CERT RABBITMQ_MANAGEMENT_SSL_KEYFILE RABBITMQ_MANAGEMENT_SSL_VERIFY
	RABBITMQ_SSL_CACERTFILE RABBITMQ_SSL_CERTFILE RABBITMQ_SSL_DEPTH RABBITMQ_SSL_FAIL_IF_NO_PEER_CERT
	RABBITMQ_SSL_KEYFILE RABBITMQ_SSL_VERIFY RABBITMQ_VM_MEMORY_HIGH_WATERMARK
)
found=
for name in "${retired[@]}"; do
	if [[ -n ${!name:-} ]]; then
		echo >&2 "error: $name is set but no longer read"
		found=yes
	fi
done
if [[ -n $found ]]; then
	echo >&2 'error: deprecated environment variables detected: use a configuration file (https://www.rabbitmq.com/configure.html)'
	exit 1
fi
# The Erlang cookie, made by the server's user before anything else runs: a healthcheck or `docker exec
# rabbitmqctl` (as root, HOME=/var/lib/rabbitmq) would otherwise create it first, owned by root, and the
# server could not read it (the official image's older entrypoints wrote it from RABBITMQ_ERLANG_COOKIE).
cookie=/var/lib/rabbitmq/.erlang.cookie
if [[ $1 == rabbitmq-server && ! -e $cookie ]]; then
	(umask 077 && head -c 15 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$cookie")
	chmod 400 "$cookie"
fi
if [[ -z ${RABBITMQ_USE_LONGNAME:-} && $(hostname) != "$(hostname -s)" ]]; then
	export RABBITMQ_USE_LONGNAME=true
fi
exec "$@"
