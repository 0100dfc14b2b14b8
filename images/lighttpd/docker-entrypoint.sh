#!/bin/sh
# seccompose's entrypoint for lighttpd:1.4 built from Debian's lighttpd. There is no official
# image: this follows the common community images (sebp/lighttpd and the like). Options as the
# first argument run lighttpd with them; for lighttpd, as root, the cache and run directories are
# given to www-data (lighttpd drops to it), the configuration is checked, and lighttpd runs in the
# foreground.
set -e
conf=/etc/lighttpd/lighttpd.conf
if [ "${1#-}" != "$1" ]; then
	set -- lighttpd -D -f "$conf" "$@"
fi
if [ "$1" = lighttpd ]; then
	if [ "$(id -u)" = 0 ]; then
		mkdir -p /var/cache/lighttpd/compress /var/cache/lighttpd/uploads /run/lighttpd
		find /var/cache/lighttpd /run/lighttpd \! -user www-data -exec chown www-data:www-data '{}' +
	fi
	shift
	lighttpd -tt "$@" >/dev/null
	set -- lighttpd "$@"
fi
exec "$@"
