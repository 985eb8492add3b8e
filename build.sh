#!/usr/bin/env bash
# Bootstrap: check for the .NET SDK, restore the local Cake tool, run build/build.cake with all arguments.
# Examples: ./build.sh --target=Test ; ./build.sh --target=Plots --config=config/fashion-mnist.yaml
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v dotnet >/dev/null 2>&1; then
  echo "build.sh: the .NET SDK is required (version in global.json): https://dotnet.microsoft.com/download" >&2
  exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Cake caches the compiled script so that a no-op run starts quickly
export CAKE_SETTINGS_ENABLESCRIPTCACHE=true
dotnet tool restore >/dev/null
exec dotnet cake build/build.cake "$@"
