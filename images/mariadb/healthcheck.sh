#!/bin/bash
# seccompose's healthcheck for mariadb:10.11 (the official image ships one of the same name):
#   healthcheck.sh [--connect] [--innodb_initialized]
# connects over TCP as the healthcheck user the entrypoint created (its .my-healthcheck.cnf in the
# data directory) and checks what was asked; exits 0 when every check passes.
set -eo pipefail
datadir=${DATADIR:-/var/lib/mysql}
query() { mariadb --defaults-extra-file="$datadir/.my-healthcheck.cnf" --skip-column-names --batch -e "$1"; }
checks=("$@")
if (( ${#checks[@]} == 0 )); then checks=(--connect); fi
for check in "${checks[@]}"; do
	case $check in
		--connect) query 'SELECT 1' >/dev/null ;;
		--innodb_initialized)
			[[ $(query "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'innodb' AND support IN ('YES', 'DEFAULT', 'ENABLED')") == 1 ]] ;;
		*) echo "healthcheck.sh: unknown check $check" >&2; exit 2 ;;
	esac
done
