#!/usr/bin/env bash
# Bootstrap: check for the .NET SDK, restore the local Cake tool, run build/build.cake with all arguments.
# Examples: ./build.sh --target=Test ; ./build.sh --target=Plots --config=config/fashion-mnist.yaml ; ./build.sh --help
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v dotnet >/dev/null 2>&1; then
  echo "build.sh: the .NET SDK is required (version in global.json): https://dotnet.microsoft.com/download" >&2
  exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Cake caches the compiled script so that a no-op run starts quickly
export CAKE_SETTINGS_ENABLESCRIPTCACHE=true
# logs get no colour codes: Cake colours even redirected output unless NO_COLOR is set
if [ ! -t 1 ] || [ ! -t 2 ]; then export NO_COLOR=1; fi
# -h/--help: this build's help (Cake would answer with its generic page); --debug: pgig's stack traces
# (Cake's own --debug would wait for a debugger to attach to the build script)
args=()
for a in "$@"; do
  case "$a" in
    -h|--help|-\?) args+=(--show-help) ;;
    --debug) export PGIG_DEBUG=1 ;;
    *) args+=("$a") ;;
  esac
done
dotnet tool restore >/dev/null
exec dotnet cake build/build.cake ${args[@]+"${args[@]}"}
