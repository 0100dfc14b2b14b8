#!/bin/sh
# seccompose's entrypoint for gunicorn:20 built from Debian's gunicorn. There is no official
# image: this follows the python-based application images people build (a non-root user, the app
# in /app). Options as the first argument run gunicorn with them.
set -e
if [ "${1#-}" != "$1" ]; then
	set -- gunicorn "$@"
fi
exec "$@"
