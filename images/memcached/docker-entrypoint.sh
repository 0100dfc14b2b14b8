#!/bin/sh
# seccompose's entrypoint for memcached:1.6 built from Debian's memcached: as the official image's
# (docker-library/memcached), options as the first argument run memcached with them.
set -e
case "$1" in
	-*) set -- memcached "$@" ;;
esac
exec "$@"
