#!/usr/bin/env bash
# Build the base image `mockserver-base:local` for when python:3.12-slim cannot be pulled:
#
#   container/build-base.sh [TAG]
#   docker build --network host --build-arg BASE=mockserver-base:local -t mockserver:local .
#
# It is a `debootstrap --variant=minbase` of the Debian release this machine runs, fetched from
# the Debian mirror apt is configured with here, with python3, python3-venv and ca-certificates,
# brought up to date from this machine's Debian sources (updates and security included). It
# trusts this machine's extra CA certificates (/usr/local/share/ca-certificates and any other
# bundle pip is told to use here) and has an /etc/pip.conf carrying this machine's pip network
# settings, so pip inside a build reaches the package index exactly as it does on the host.
#
# Needs root, debootstrap (installed with apt-get when missing) and a running Docker engine
# (the docker CLI honours DOCKER_HOST). Environment knobs:
#   MIRROR=URL     use this Debian mirror instead of the one in apt's sources
#   SUITE=NAME     use this release instead of VERSION_CODENAME from /etc/os-release
#   UPGRADE=0      skip the upgrade from the updates and security suites
#   KEEP_ROOTFS=1  keep the temporary folder with the root file system (for debugging)
set -euo pipefail

TAG=${1:-mockserver-base:local}
UPGRADE=${UPGRADE:-1}
PYTHON=$(command -v python3 || echo /usr/bin/python3)

say() { printf "build-base: [%3ds] %s\n" "$SECONDS" "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
command -v docker >/dev/null 2>&1 || die "no docker CLI on PATH"
if ! command -v debootstrap >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and there is no apt-get to install it"
  say "installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# shellcheck disable=SC1091
. /etc/os-release
SUITE=${SUITE:-${VERSION_CODENAME:-}}
[ -n "$SUITE" ] || die "no VERSION_CODENAME in /etc/os-release; set SUITE"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mockserver-base.XXXXXX")
ROOTFS=$WORK/rootfs
cleanup() {
  if [ "${KEEP_ROOTFS:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---- apt's Debian sources on this machine: the mirror for debootstrap and the image's sources ----
"$PYTHON" - "$SUITE" >"$WORK/sources" <<'EOF'
"""Print this machine's enabled Debian `deb` entries for SUITE, SUITE-updates and SUITE-security
as one-line sources, the entry for SUITE itself first."""
import glob
import sys

suite = sys.argv[1]
wanted = (suite, f"{suite}-updates", f"{suite}-security")


def one_line(path):
    for raw in open(path, encoding="utf-8", errors="replace"):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):  # [options]
            while words and not words[0].endswith("]"):
                words.pop(0)
            words.pop(0)
        if len(words) >= 3:
            yield words[0], [words[1]], words[2:]


def deb822(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    for stanza in text.split("\n\n"):
        fields, key = {}, None
        for raw in stanza.splitlines():
            if raw.startswith("#") or not raw.strip():
                continue
            if raw[0] in " \t" and key:
                fields[key] += " " + raw.strip()
                continue
            key, _, value = raw.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split(), fields.get("components", "").split()


entries = []
files = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]
for path in files:
    try:
        entries += list(one_line(path))
    except FileNotFoundError:
        pass
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    entries += list(deb822(path))

lines = []
for uri, suites, components in entries:
    if "main" not in components:
        continue
    for s in suites:
        if s in wanted:
            lines.append((wanted.index(s), f"deb {uri.rstrip('/')} {s} main"))
for _, line in sorted(lines, key=lambda item: item[0]):
    print(line)
EOF
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(awk -v s="$SUITE" '$3 == s { print $2; exit }' "$WORK/sources")
fi
[ -n "${MIRROR:-}" ] || die "no enabled 'deb' source for $SUITE with component main in /etc/apt/sources.list{,.d}; set MIRROR"
[ -s "$WORK/sources" ] || echo "deb $MIRROR $SUITE main" >"$WORK/sources"
say "debootstrap --variant=minbase $SUITE from $MIRROR"

# ---- the root file system ----------------------------------------------------------------------
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

in_root() {
  chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}

cp "$WORK/sources" "$ROOTFS/etc/apt/sources.list"
if [ "$UPGRADE" = 1 ]; then
  say "upgrading from: $(tr '\n' ';' <"$WORK/sources")"
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  { in_root apt-get update -qq && in_root apt-get -y -qq -o Dpkg::Use-Pty=0 upgrade && in_root apt-get clean; } \
    >"$WORK/upgrade.log" 2>&1 || { tail -n 30 "$WORK/upgrade.log" >&2; die "upgrade failed (log above)"; }
  : >"$ROOTFS/etc/resolv.conf"  # the engine supplies its own at run time
fi

# ---- trust: this machine's extra CAs and whatever other bundle pip is told to use here ----------
mkdir -p "$ROOTFS/usr/local/share/ca-certificates/host"
if [ -d /usr/local/share/ca-certificates ]; then
  find /usr/local/share/ca-certificates -type f -name '*.crt' -print0 \
    | while IFS= read -r -d '' crt; do
        cp "$crt" "$ROOTFS/usr/local/share/ca-certificates/host/$(basename "$crt")"
      done
fi

PIP_SETTINGS=$("$PYTHON" -m pip config list 2>/dev/null || true)
"$PYTHON" - "$ROOTFS" "$PIP_SETTINGS" <<'EOF'
"""Certificates in the bundles pip, requests or OpenSSL are pointed at here that are not already in
this machine's system bundle: copied into the root file system as extra CAs."""
import os
import re
import sys
from pathlib import Path

rootfs, settings = Path(sys.argv[1]), sys.argv[2]
system = Path("/etc/ssl/certs/ca-certificates.crt")
PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.S)


def certs(path):
    try:
        return PEM.findall(path.read_text(encoding="ascii", errors="replace"))
    except OSError:
        return []


def key(pem):
    return "".join(pem.split())


bundles = {os.environ.get(k, "") for k in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")}
bundles |= set(re.findall(r"^\S*\bcert='([^']*)'$", settings, flags=re.M))
known = {key(c) for c in certs(system)}
extra = []
for name in sorted(b for b in bundles if b):
    path = Path(name)
    if path.resolve() == system.resolve():
        continue
    for pem in certs(path):
        if key(pem) not in known:
            known.add(key(pem))
            extra.append(pem)
for i, pem in enumerate(extra):
    (rootfs / f"usr/local/share/ca-certificates/host/pip-bundle-{i}.crt").write_text(pem + "\n", encoding="ascii")
print(f"build-base: {len(extra)} extra certificate(s) from pip's bundle(s)", file=sys.stderr)
EOF
say "trusting: $(cd "$ROOTFS/usr/local/share/ca-certificates/host" && ls | tr '\n' ' ')"
in_root update-ca-certificates >"$WORK/ca.log" 2>&1 || { cat "$WORK/ca.log" >&2; die "update-ca-certificates failed"; }

# ---- pip: the host's network settings (local paths and file:// indexes cannot be reached) -------
"$PYTHON" - "$PIP_SETTINGS" >"$ROOTFS/etc/pip.conf" <<'EOF'
"""/etc/pip.conf for the image, from `pip config list` (files and PIP_* variables) on this host."""
import re
import sys

keep = ("index-url", "extra-index-url", "trusted-host", "proxy", "timeout", "default-timeout", "retries")
rank = {"global": 0, "install": 1, ":env:": 2}  # as pip weighs them: PIP_* variables win
found: dict = {}
for line in sorted(sys.argv[1].splitlines(), key=lambda text: rank.get(text.split(".", 1)[0], -1)):
    m = re.match(r"^(\S*)\.([a-z-]+)='(.*)'$", line)
    if not m or m.group(1) not in ("global", "install", ":env:") or m.group(2) not in keep:
        continue
    name, value = m.group(2), m.group(3)
    if name == "default-timeout":
        name = "timeout"
    if name.endswith("index-url"):
        urls = [u for u in value.split() if u.startswith(("http://", "https://"))]
        dropped = [u for u in value.split() if u not in urls]
        if dropped:
            print(f"build-base: pip {name} not reachable from a build, left out: {' '.join(dropped)}", file=sys.stderr)
        if not urls:
            continue
        value = " ".join(urls)
    found[name] = value
print("# pip inside the image reaches the index as pip on the machine that built this base did.")
print("[global]")
print("cert = /etc/ssl/certs/ca-certificates.crt")
for name, value in sorted(found.items()):
    print(f"{name} = {value}")
EOF
say "pip.conf: $(grep -v '^#' "$ROOTFS/etc/pip.conf" | tr '\n' ' ')"

# ---- small: no package caches, lists, docs (copyrights kept), man pages, locales, logs ----------
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/lib/apt/lists/*
find "$ROOTFS/usr/share/doc" -type f ! -name copyright -delete
find "$ROOTFS/usr/share/doc" -depth -type d -empty -delete
rm -rf "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* \
  "$ROOTFS"/usr/share/lintian "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/*
find "$ROOTFS/var/log" -type f -delete
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-mockserver-slim" <<'EOF'
# Packages installed later in the image leave out documentation, man pages and translations too.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
cat >"$ROOTFS/etc/apt/apt.conf.d/01-mockserver-slim" <<'EOF'
APT::Install-Recommends "false";
EOF

# ---- import ---------------------------------------------------------------------------------------
say "importing as $TAG"
tar --numeric-owner -C "$ROOTFS" -c . \
  | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    --message "debootstrap --variant=minbase $SUITE from $MIRROR" \
    - "$TAG" >/dev/null
docker image inspect --format "build-base: $TAG {{.Id}} {{.Size}} bytes" "$TAG" >&2
