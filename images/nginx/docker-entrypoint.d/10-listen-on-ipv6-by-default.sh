#!/bin/sh
# Also listen on [::]:80 when the host has IPv6 and /etc/nginx/conf.d/default.conf is the image's
# own, unmodified (its checksum is kept beside it) and writable (not on a read-only filesystem).
set -e
me=$(basename "$0")
conf=/etc/nginx/conf.d/default.conf
[ -f /proc/net/if_inet6 ] || { echo >&3 "$me: info: ipv6 not available"; exit 0; }
[ -f "$conf" ] || { echo >&3 "$me: info: $conf is not a file or does not exist"; exit 0; }
touch "$conf" 2>/dev/null || { echo >&3 "$me: info: can not modify $conf (read-only file system?)"; exit 0; }
if grep -q 'listen  \[::\]:80;' "$conf"; then echo >&3 "$me: info: IPv6 listen already enabled"; exit 0; fi
sha256sum --status -c /usr/share/nginx/default.conf.sha256 2>/dev/null || {
	echo >&3 "$me: info: $conf differs from the image's"
	exit 0
}
sed -i -E 's,listen       80;,listen       80;\n    listen  [::]:80;,' "$conf"
echo >&3 "$me: info: Enabled listen on IPv6 in $conf"
