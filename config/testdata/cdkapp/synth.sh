#!/bin/sh
# synth.sh regenerates ../cdk-synth (the templates and the cloud assembly's
# manifest.json, so `--config cdk-synth` reads it as a cdk.out) from this CDK app:
# it installs the pinned aws-cdk-lib and aws-cdk (npm ci when
# package-lock.json exists), runs `cdk synth` into a scratch directory and
# copies the templates out. node_modules and the scratch output stay
# uncommitted (.gitignore); the templates are committed so CI never needs npm.
set -eu
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
CDK_DISABLE_VERSION_CHECK=1 npx --no-install cdk synth --quiet --no-notices --output "$out"
mkdir -p ../cdk-synth
rm -f ../cdk-synth/*.template.json ../cdk-synth/manifest.json
cp "$out"/*.template.json "$out"/manifest.json ../cdk-synth/
ls -l ../cdk-synth
