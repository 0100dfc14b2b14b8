#!/bin/sh
# seccompose's entrypoint for redis:7 built from Debian's redis-server: the steps of the official
# image's docker-entrypoint.sh (docker-library/redis), written anew. Options or a .conf file as
# the first argument run redis-server with them; as root, the working directory (/data) is given
# to redis and the server is started as redis through gosu, with a private umask.
set -e
case "$1" in
	-* | *.conf) set -- redis-server "$@" ;;
esac
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi
if [ "$(umask)" = 0022 ]; then
	umask 0077
fi
exec "$@"
