#!/bin/sh
# Write each $NGINX_ENVSUBST_TEMPLATE_DIR/**/*$NGINX_ENVSUBST_TEMPLATE_SUFFIX (default
# /etc/nginx/templates/*.template) to $NGINX_ENVSUBST_OUTPUT_DIR (default /etc/nginx/conf.d) with
# the environment's variables substituted (only those the environment defines, so nginx's own
# $variables stay as they are).
set -e
me=$(basename "$0")
templates=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
output=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
filter=${NGINX_ENVSUBST_FILTER:-}
[ -d "$templates" ] || exit 0
if [ ! -w "$output" ]; then
	echo >&3 "$me: ERROR: $templates exists, but $output is not writable"
	exit 0
fi
defined=$(env | cut -d= -f1 | grep -E "^${filter}" | sed 's/^/${/; s/$/}/' | tr '\n' ' ')
find "$templates" -follow -type f -name "*$suffix" -print | while read -r template; do
	relative=${template#"$templates"/}
	target="$output/${relative%"$suffix"}"
	mkdir -p "$(dirname "$target")"
	echo >&3 "$me: Running envsubst on $template to $target"
	envsubst "$defined" <"$template" >"$target"
done
