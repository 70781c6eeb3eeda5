#!/usr/bin/env bash
# endpoint.sh: deploy an APS endpoint package (.app.zip built by aps-package) onto this host.
#
#   endpoint.sh <name> <package.app.zip> [--root DIR] [--listen ADDR:PORT]
#               [--tls-cert FILE --tls-key FILE | --self-signed] [--no-service] [-- SERVE-ARGS...]
#   endpoint.sh --status <name> [--root DIR]
#   endpoint.sh --remove <name> [--purge] [--root DIR]
#
# Layout under ROOT/<name>: releases/<version>-<release>/ (unpacked packages), current (symlink to
# the running release, switched atomically), data/ (kept across upgrades), endpoint.env (this
# endpoint's settings), endpoint.pid and endpoint.log (when run without systemd).
# The package is checked first with aps-package (APS_PACKAGE, beside this script, or on PATH),
# else with unzip and sha256sum. APS_ENDPOINT_WAIT: seconds to wait for an answer (30).
# With --self-signed the endpoint makes its certificate (kept in data/tls/) for loopback, the
# machine's name and the host of the URL printed here, which it gets as APS_TLS_NAMES.
set -euo pipefail

readonly DEFAULT_ROOT=/opt/aps-endpoints
readonly DEFAULT_LISTEN=0.0.0.0:8080
# Arguments `serve` needs to answer plain HTTP: the framework asks for it explicitly.
readonly PLAIN_HTTP_ARGS=(--insecure-http)
# How long to wait for the endpoint to answer, in seconds.
readonly WAIT_SECS=${APS_ENDPOINT_WAIT:-30}

usage() {
    echo "usage:"
    sed -n '4,7s/^#//p' "$0"
}

die() {
    echo "endpoint.sh: error: $*" >&2
    exit 1
}

say() {
    echo "endpoint.sh: $*"
}

# ---------------------------------------------------------------------------------------------
# Command line

# What to delete if the script stops early.
cleanup_paths=()
trap 'rm -rf "${cleanup_paths[@]}"' EXIT

action=deploy
positional=()
root=$DEFAULT_ROOT
listen=""
tls_args=()
tls_cert=""
tls_key=""
self_signed=0
no_service=0
purge=0
extra_args=()
extra_given=0

need_value() {
    [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value"
}

while (($#)); do
    case $1 in
        --root) need_value "$@"; root=$2; shift 2 ;;
        --listen) need_value "$@"; listen=$2; shift 2 ;;
        --tls-cert) need_value "$@"; tls_cert=$2; shift 2 ;;
        --tls-key) need_value "$@"; tls_key=$2; shift 2 ;;
        --self-signed) self_signed=1; shift ;;
        --no-service) no_service=1; shift ;;
        --status) action=status; shift ;;
        --remove) action=remove; shift ;;
        --purge) purge=1; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; extra_args=("$@"); extra_given=1; break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) positional+=("$1"); shift ;;
    esac
done

case $action in
    deploy) [[ ${#positional[@]} -eq 2 ]] || { usage >&2; exit 2; } ;;
    *) [[ ${#positional[@]} -eq 1 ]] || { usage >&2; exit 2; } ;;
esac
name=${positional[0]}
[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$ ]] ||
    die "endpoint name '$name' is not a plain word (letters, digits, '-' and '_', at most 63)"
[[ $root == /* ]] || root=$PWD/$root
[[ $root =~ ^[A-Za-z0-9._/+-]+$ ]] ||
    die "root '$root' must be a plain path (letters, digits, '.', '_', '+', '-', '/')"
if [[ -n $tls_cert || -n $tls_key ]]; then
    ((self_signed == 0)) || die "--self-signed and --tls-cert/--tls-key exclude each other"
    [[ -r $tls_cert && -r $tls_key ]] || die "--tls-cert and --tls-key need two readable files"
    tls_args=(--tls-cert "$(realpath "$tls_cert")" --tls-key "$(realpath "$tls_key")")
    [[ ${tls_args[*]} != *[[:space:]]*[[:space:]]*[[:space:]]*[[:space:]]* ]] ||
        die "certificate and key paths must not contain spaces"
elif ((self_signed)); then
    tls_args=(--self-signed)
fi

base=$root/$name
releases=$base/releases
data=$base/data
current=$base/current
settings=$base/endpoint.env
pid_file=$base/endpoint.pid
log_file=$base/endpoint.log
started_pid=""
tls_names=""
unit=aps-endpoint-$name.service
unit_path=/etc/systemd/system/$unit

# ---------------------------------------------------------------------------------------------
# Helpers

# The value of KEY in a KEY=value file (quotes removed), or nothing.
setting() {
    local value
    value=$(sed -n "s/^$1=//p" "$2" 2>/dev/null | tail -n 1) || true
    value=${value#\"}
    echo "${value%\"}"
}

systemd_running() {
    [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null
}

# Whether process $1 exists and has not exited (a zombie has).
pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# The pid of this endpoint's background process, if it runs (a recycled pid is not ours).
running_pid() {
    local pid
    [[ -f $pid_file ]] || return 1
    pid=$(<"$pid_file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" || return 1
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" |
        grep -xF -e "$data" -e "/$name" >/dev/null || return 1
    echo "$pid"
}

unit_active() {
    systemd_running && systemctl is-active --quiet "$unit" 2>/dev/null
}

endpoint_alive() {
    running_pid >/dev/null || unit_active
}

stop_endpoint() {
    local pid i
    if systemd_running && [[ -f $unit_path ]]; then
        systemctl stop "$unit" 2>/dev/null || true
    fi
    if pid=$(running_pid); then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            running_pid >/dev/null || break
            sleep 0.1
        done
        if running_pid >/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pid_file"
}

# Splits ADDR:PORT into host, port, probe_host (where to connect) and url_host (for people).
parse_listen() {
    host=${1%:*}
    port=${1##*:}
    if ! [[ $1 == *:* && -n $host && $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
        die "listen address '$1' is not ADDR:PORT"
    fi
    probe_host=$host
    url_host=$host
    case $host in
        0.0.0.0) probe_host=127.0.0.1 ;;
        "[::]") probe_host="[::1]" ;;
    esac
    if [[ $host == 0.0.0.0 || $host == "[::]" ]]; then
        url_host=$(machine_name)
    fi
    # The host of the printed URL, for a self-signed certificate to name (without brackets).
    tls_names=${url_host#[}
    tls_names=${tls_names%]}
}

# This machine's name as people reach it: the FQDN if the resolver knows one. `hostname` may
# be missing on a minimal system; the kernel knows the name anyway.
machine_name() {
    local found
    found=$(hostname -f 2>/dev/null) || found=$(hostname 2>/dev/null) || found=""
    [[ -n $found ]] || found=$(cat /proc/sys/kernel/hostname 2>/dev/null) || found=""
    echo "${found:-localhost}"
}

# Whether something accepts TCP connections on probe_host:port.
port_open() {
    local h=${probe_host#[}
    h=${h%]}
    # shellcheck disable=SC2016 # $0 and $1 are expanded by the inner bash.
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$port" 2>/dev/null
}

# Whether the endpoint answers HTTP(S) under its base path (any status will do).
answers() {
    local url=$scheme://$probe_host:$port/$name/ code
    if command -v curl >/dev/null; then
        code=$(curl -gks -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
        [[ $code =~ ^[1-5][0-9][0-9]$ ]]
    else
        port_open
    fi
}

# Waits until the endpoint just started answers; fails when it dies or the time is up.
# The background process is followed by its pid alone: until its subshell has exec'd the
# endpoint, its command line is still this script's, which running_pid would not recognise.
wait_ready() {
    local deadline=$((SECONDS + WAIT_SECS))
    while ((SECONDS < deadline)); do
        if [[ $mode == systemd ]]; then
            unit_active || return 1
        else
            pid_alive "$started_pid" || return 1
        fi
        answers && return 0
        sleep 0.2
    done
    return 1
}

# Points `current` at releases/$1, atomically.
switch_current() {
    ln -sfn "releases/$1" "$base/.current.new"
    mv -Tf "$base/.current.new" "$current"
}

# Starts the release that `current` points at, as a systemd unit or in the background.
start_endpoint() {
    local binary serve_args
    binary=$(setting APS_BINARY "$current/deploy/endpoint.env")
    if [[ -z $binary ]]; then
        binary=$(cd "$current" && find bin -maxdepth 1 -type f 2>/dev/null | sort | head -n 1) || true
    fi
    [[ $binary != /* && $binary != *..* && -f $current/$binary ]] ||
        die "the package has no endpoint program (deploy/endpoint.env names '$binary')"
    chmod 0755 "$current/$binary"
    serve_args=(--listen "$listen" --base-path "/$name" --data-dir "$data")
    serve_args+=("${tls_args[@]}" "${extra_args[@]}")
    if ((${#tls_args[@]} == 0)); then
        serve_args+=("${PLAIN_HTTP_ARGS[@]}")
    fi
    write_settings "${serve_args[*]}"
    if [[ $mode == systemd ]]; then
        [[ -f $current/deploy/aps-endpoint.service ]] || die "the package has no systemd unit template"
        sed -e "s|@ROOT@|$root|g" -e "s|@NAME@|$name|g" "$current/deploy/aps-endpoint.service" \
            >"$unit_path.new"
        mv -f "$unit_path.new" "$unit_path"
        systemctl daemon-reload
        systemctl enable --quiet "$unit"
        systemctl restart "$unit" || true
    else
        # Detached from this script: no terminal, no inherited lock, output to the log file.
        (cd "$data" && export APS_TLS_NAMES=$tls_names &&
            exec nohup "$current/$binary" serve "${serve_args[@]}") \
            </dev/null >>"$log_file" 2>&1 9>&- &
        started_pid=$!
        echo "$started_pid" >"$pid_file"
    fi
}

write_settings() {
    cat >"$settings.new" <<EOF
# Written by endpoint.sh for endpoint $name; read by its systemd unit and by the next upgrade.
APS_MODE=$mode
APS_LISTEN=$listen
APS_TLS_ARGS="${tls_args[*]}"
APS_EXTRA_ARGS="${extra_args[*]}"
APS_SERVE_ARGS="$1"
# The host of the printed URL: a self-signed certificate names it.
APS_TLS_NAMES="$tls_names"
EOF
    mv -f "$settings.new" "$settings"
}

show_log() {
    if [[ $mode == systemd ]]; then
        journalctl -u "$unit" -n 20 --no-pager >&2 || true
    elif [[ -f $log_file ]]; then
        echo "--- last lines of $log_file:" >&2
        tail -n 20 "$log_file" >&2
    fi
}

# ---------------------------------------------------------------------------------------------
# Verifying and unpacking

# aps-package, from APS_PACKAGE, beside this script, or on PATH.
package_tool() {
    local beside
    beside=$(dirname "$0")/aps-package
    if [[ -n ${APS_PACKAGE:-} ]]; then
        echo "$APS_PACKAGE"
    elif [[ -x $beside ]]; then
        echo "$beside"
    else
        command -v aps-package
    fi
}

# What aps-package verify does, done with unzip and sha256sum: checked before unpacking.
check_archive() {
    local entry
    unzip -tqq "$package" >/dev/null 2>&1 ||
        die "$package is not a zip archive, or a file in it is corrupt"
    while IFS= read -r entry; do
        case $entry in
            /* | .. | ../* | */../* | */.. | *\\*) die "$package: '$entry' escapes the package" ;;
        esac
    done < <(unzip -Z1 "$package")
    if unzip -Z "$package" | awk '/^l/ { found = 1 } END { exit !found }'; then
        die "$package holds a symbolic link; a package may hold only regular files"
    fi
}

# Checks the unpacked files against APP-LIST.xml: every file listed, every size and digest right.
check_list() {
    local dir=$1 line file size sum listed=$'\n'
    [[ -f $dir/APP-META.xml ]] || die "$package: APP-META.xml is missing"
    [[ -f $dir/APP-LIST.xml ]] || die "$package: APP-LIST.xml is missing"
    while IFS= read -r line; do
        file=$(sed -n 's/.* name="\([^"]*\)".*/\1/p' <<<"$line")
        size=$(sed -n 's/.* size="\([^"]*\)".*/\1/p' <<<"$line")
        sum=$(sed -n 's/.* sha256="\([^"]*\)".*/\1/p' <<<"$line")
        [[ -f $dir/$file ]] || die "$package: '$file' is listed in APP-LIST.xml but missing"
        [[ $(stat -c %s "$dir/$file") == "$size" ]] ||
            die "$package: '$file' does not have the size APP-LIST.xml says"
        [[ $(sha256sum "$dir/$file" | cut -d ' ' -f 1) == "${sum,,}" ]] ||
            die "$package: '$file' does not have the SHA-256 APP-LIST.xml says"
        listed+="$file"$'\n'
    done < <(grep -o '<[A-Za-z0-9]*:\{0,1\}file [^>]*>' "$dir/APP-LIST.xml")
    while IFS= read -r file; do
        [[ $listed == *$'\n'"$file"$'\n'* ]] ||
            die "$package: '$file' is in the archive but not listed in APP-LIST.xml"
    done < <(cd "$dir" && find . -type f ! -path ./APP-LIST.xml | sed 's|^\./||')
}

# The text of the first <$1> element of APP-META.xml in $2, trimmed.
meta_value() {
    { grep -o "<$1>[^<]*</$1>" "$2/APP-META.xml" || true; } | sed -n '1{s/<[^>]*>//g;s/^ *//;s/ *$//;p}'
}

# ---------------------------------------------------------------------------------------------
# Actions

deploy() {
    local tool staging version release release_id reason hint previous="" fresh=1
    [[ -f $package && -r $package ]] || die "package '$package' not found or not readable"
    command -v unzip >/dev/null || die "unzip is needed (apt-get install unzip)"
    if tool=$(package_tool); then
        "$tool" verify "$package" >&2 || die "$package is not a sound package (see above)"
    else
        check_archive
    fi

    # A first deployment that fails leaves nothing behind.
    [[ -e $base ]] || cleanup_paths+=("$base")
    hint="choose another with --root"
    ((EUID == 0)) || hint="run as root, or $hint"
    if ! reason=$(mkdir -p "$releases" "$data" 2>&1); then
        die "cannot write to $root: ${reason##*: } ($hint)"
    fi
    [[ -w $releases && -w $data ]] || die "cannot write to $root: permission denied ($hint)"
    chmod 0700 "$data"
    exec 9>"$base/.lock"
    if command -v flock >/dev/null; then
        flock -n 9 || die "another endpoint.sh is working on $name"
    fi

    staging=$(mktemp -d "$releases/.staging.XXXXXX")
    cleanup_paths+=("$staging")
    unzip -qq "$package" -d "$staging" || die "cannot unpack $package"
    check_list "$staging"
    version=$(meta_value version "$staging")
    release=$(meta_value release "$staging")
    release_id=$version-$release
    [[ $release_id =~ ^[A-Za-z0-9._+]+-[A-Za-z0-9._+]+$ ]] ||
        die "$package: version '$version' and release '$release' must be plain words"

    # Settings: the command line, else the previous deployment's, else the package's defaults.
    if [[ -f $settings ]]; then
        fresh=0
        [[ -n $listen ]] || listen=$(setting APS_LISTEN "$settings")
        if [[ -z $tls_cert && $self_signed == 0 ]]; then
            read -r -a tls_args <<<"$(setting APS_TLS_ARGS "$settings")"
        fi
        if ((extra_given == 0)); then
            read -r -a extra_args <<<"$(setting APS_EXTRA_ARGS "$settings")"
        fi
    fi
    [[ -n $listen ]] || listen=$(setting APS_LISTEN "$staging/deploy/endpoint.env")
    listen=${listen:-$DEFAULT_LISTEN}
    parse_listen "$listen"
    scheme=http
    ((${#tls_args[@]} == 0)) || scheme=https
    mode=background
    if ((no_service == 0)) && systemd_running; then
        mode=systemd
        [[ -w ${unit_path%/*} ]] ||
            die "installing a systemd unit needs root (or deploy with --no-service)"
    fi

    # A port held by anything but this endpoint is an error, found before anything changes.
    if port_open && ! { endpoint_alive && [[ $(setting APS_LISTEN "$settings") == "$listen" ]]; }; then
        die "port $port on $host is already in use"
    fi

    # Unpack into releases/<version>-<release>; the same version, rebuilt, replaces it.
    if [[ -L $current ]]; then
        previous=$(basename "$(readlink "$current")")
    fi
    if [[ -d $releases/$release_id ]]; then
        if cmp -s "$staging/APP-LIST.xml" "$releases/$release_id/APP-LIST.xml"; then
            rm -rf "$staging"
        elif [[ $previous == "$release_id" ]]; then
            rm -rf "$releases/$release_id.previous"
            mv "$releases/$release_id" "$releases/$release_id.previous"
            previous=$release_id.previous
        else
            rm -rf "${releases:?}/$release_id"
        fi
    fi
    if [[ -d $staging ]]; then
        chmod 0755 "$staging"
        mv "$staging" "$releases/$release_id"
    fi

    stop_endpoint
    switch_current "$release_id"
    start_endpoint
    if ! wait_ready; then
        say "release $release_id did not start or does not answer on $listen" >&2
        show_log
        stop_endpoint
        if [[ -n $previous && -d $releases/$previous ]]; then
            switch_current "$previous"
            restore_previous_settings
            start_endpoint
            wait_ready || die "the previous release $previous did not come back either"
            die "upgrade to $release_id failed; the previous release $previous runs again"
        fi
        die "deployment of $release_id failed"
    fi
    cleanup_paths=()
    cp -f "$settings" "$settings.previous"
    prune_releases "$release_id" "$previous"

    echo "CONGRATULATIONS! Endpoint configured SUCCESSFULLY"
    if [[ $scheme == https ]]; then
        echo "https endpoint url: https://$url_host:$port/$name"
    else
        echo "http endpoint url: http://$url_host:$port/$name"
        [[ $host == 127.* || $host == localhost || $host == "[::1]" ]] ||
            say "note: plain HTTP is for local work; give --tls-cert/--tls-key or --self-signed" >&2
    fi
    if ((fresh)); then
        say "deployed $release_id as $mode endpoint; data in $data"
    else
        say "upgraded to $release_id ($mode); data kept in $data"
    fi
}

# After a failed upgrade: the settings the previous release ran with.
restore_previous_settings() {
    [[ -f $settings.previous ]] || return 0
    listen=$(setting APS_LISTEN "$settings.previous")
    read -r -a tls_args <<<"$(setting APS_TLS_ARGS "$settings.previous")"
    read -r -a extra_args <<<"$(setting APS_EXTRA_ARGS "$settings.previous")"
    mode=$(setting APS_MODE "$settings.previous")
    mode=${mode:-background}
    scheme=http
    ((${#tls_args[@]} == 0)) || scheme=https
    parse_listen "$listen"
}

# Keeps the current release and the one before it.
prune_releases() {
    local dir
    for dir in "$releases"/*; do
        case $(basename "$dir") in
            "$1" | "$2") ;;
            *) rm -rf "$dir" ;;
        esac
    done
}

status() {
    [[ -L $current ]] || die "no endpoint named $name under $root"
    mode=$(setting APS_MODE "$settings")
    listen=$(setting APS_LISTEN "$settings")
    parse_listen "$listen"
    scheme=http
    [[ -z $(setting APS_TLS_ARGS "$settings") ]] || scheme=https
    echo "endpoint: $name"
    echo "release: $(basename "$(readlink "$current")")"
    echo "url: $scheme://$url_host:$port/$name"
    echo "data: $data"
    if [[ $mode == systemd ]]; then
        echo "service: $unit"
    else
        echo "log: $log_file"
    fi
    if ! endpoint_alive; then
        echo "state: stopped"
        exit 3
    fi
    if [[ $mode != systemd ]]; then
        echo "pid: $(running_pid)"
    fi
    if answers; then
        echo "state: running"
    else
        echo "state: running but not answering"
        exit 3
    fi
}

remove() {
    [[ -d $base ]] || die "no endpoint named $name under $root"
    stop_endpoint
    if [[ -f $unit_path ]]; then
        systemctl disable --quiet "$unit" 2>/dev/null || true
        rm -f "$unit_path"
        systemctl daemon-reload 2>/dev/null || true
    fi
    if ((purge)); then
        rm -rf "$base"
        say "removed endpoint $name and its data"
    else
        rm -rf "$releases" "$current" "$settings" "$settings.previous" "$pid_file" "$log_file" \
            "$base/.lock"
        say "removed endpoint $name; its data stays in $data (--purge removes it)"
    fi
}

case $action in
    deploy) package=${positional[1]}; deploy ;;
    status) status ;;
    remove) remove ;;
esac
