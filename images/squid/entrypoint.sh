#!/bin/bash
# seccompose's entrypoint for ubuntu/squid:5.7 built from Debian's squid: the steps of the
# Ubuntu image's entrypoint.sh, written anew. Make the snakeoil certificate the image leaves out
# (when ssl-cert is installed), follow squid's log files on the container's output, create the
# cache directories (squid -z, which exits), then run squid in the foreground.
set -e
if [ -x /usr/sbin/make-ssl-cert ] && [ ! -f /etc/ssl/private/ssl-cert-snakeoil.key ]; then
	/usr/sbin/make-ssl-cert generate-default-snakeoil --force-overwrite >/dev/null 2>&1
fi
for log in access cache store; do
	tail -F "/var/log/squid/$log.log" 2>/dev/null &
done
/usr/sbin/squid -Nz
echo "Starting squid..."
exec /usr/sbin/squid -NYCd 1 -f /etc/squid/squid.conf "$@"
