#!/bin/sh
# Microsoft's hyco-ws 1.0.5 lists Node's core modules (http, crypto, util,
# events) as npm dependencies at "latest". "http" no longer exists on the
# registry, and Debian's npm 9 cannot override a "latest" spec, so npm cannot
# install hyco-ws. This fetches its tarball and that of its own ws 1.1.5
# with "npm pack", checks each against the registry's pinned integrity, and
# unpacks them where Node looks. Their real dependencies (moment; options and
# ultron for ws 1.1.5) come from package.json through npm ci.
set -eu
cd "$(dirname "$0")"
[ -f node_modules/hyco-ws/.fetched ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { # name version integrity destination
    (cd "$tmp" && npm pack "$1@$2" --silent >/dev/null)
    got="sha512-$(openssl dgst -sha512 -binary "$tmp/$1-$2.tgz" | base64 | tr -d '\n')"
    if [ "$got" != "$3" ]; then
        echo "fetch-hyco-ws.sh: $1@$2 does not match its pinned integrity" >&2
        exit 1
    fi
    rm -rf "$4"
    mkdir -p "$4"
    tar -xzf "$tmp/$1-$2.tgz" -C "$4" --strip-components=1
}
fetch hyco-ws 1.0.5 \
    sha512-ZpG4kvKL1q7M4StVs41IQz5VE4sn0eE1KnOQ+xt9IZ0TdVilAhXfg9+YXSvnHVbNuT1Ff2dZjlmGJrefm+uNbg== \
    node_modules/hyco-ws
fetch ws 1.1.5 \
    sha512-o3KqipXNUdS7wpQzBHSe180lBGO60SoK0yVo3CYJgb2MkobuWuBX6dhkYP5ORCLd55y+SaflMOV5fqAB53ux4w== \
    node_modules/hyco-ws/node_modules/ws
touch node_modules/hyco-ws/.fetched
echo "fetch-hyco-ws.sh: hyco-ws 1.0.5 (with ws 1.1.5) in tests/node/node_modules"
