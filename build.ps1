# Bootstrap: check for the .NET SDK, restore the local Cake tool, run build/build.cake with all arguments.
# Examples: ./build.ps1 --target=Test ; ./build.ps1 --target=Plots --config=config/fashion-mnist.yaml
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
    Write-Error "build.ps1: the .NET SDK is required (version in global.json): https://dotnet.microsoft.com/download"
    exit 1
}
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:CAKE_SETTINGS_ENABLESCRIPTCACHE = 'true'
dotnet tool restore | Out-Null
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
dotnet cake build/build.cake @args
exit $LASTEXITCODE
