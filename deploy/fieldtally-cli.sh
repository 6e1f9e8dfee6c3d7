#!/bin/sh
# The `fieldtally` command for the server's administrator: runs the installed fieldtally as the
# service does (as the fieldtally user, in its state directory, with its env file), so that it
# sees the bot's database and settings.
#
#   install -m 755 deploy/fieldtally-cli.sh /usr/local/sbin/fieldtally
#   sudo fieldtally status
#   sudo fieldtally units import /tmp/units.csv      # paths: absolute, readable by fieldtally
#   sudo fieldtally export -o /tmp/tonghop.csv
#   sudo fieldtally @laocai status                   # the instance fieldtally@laocai
set -eu

env_file=/etc/fieldtally/fieldtally.env
state_dir=/var/lib/fieldtally
case "${1:-}" in
    @?*)
        instance=${1#@}
        shift
        env_file=/etc/fieldtally/$instance.env
        state_dir=/var/lib/fieldtally/$instance
        ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    echo "fieldtally: run it as root (sudo fieldtally ...): it reads $env_file" >&2
    exit 1
fi
if [ ! -r "$env_file" ]; then
    echo "fieldtally: no settings file $env_file" >&2
    exit 1
fi

# The env file holds plain NAME=value lines (see .env.example), which the shell reads as well.
set -a
# shellcheck source=/dev/null
. "$env_file"
set +a
cd "$state_dir"
exec runuser -u fieldtally -- /opt/fieldtally/.venv/bin/fieldtally "$@"
