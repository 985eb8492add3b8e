# Bootstrap: check for the .NET SDK, restore the local Cake tool, run build/build.cake with all arguments.
# Examples: ./build.ps1 --target=Test ; ./build.ps1 --target=Plots --config=config/fashion-mnist.yaml ; ./build.ps1 --help
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
    Write-Error "build.ps1: the .NET SDK is required (version in global.json): https://dotnet.microsoft.com/download"
    exit 1
}
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:CAKE_SETTINGS_ENABLESCRIPTCACHE = 'true'
# logs get no colour codes: Cake colours even redirected output unless NO_COLOR is set
if ([Console]::IsOutputRedirected -or [Console]::IsErrorRedirected) { $env:NO_COLOR = '1' }
# -h/--help: this build's help (Cake would answer with its generic page); --debug: pgig's stack traces
# (Cake's own --debug would wait for a debugger to attach to the build script)
if ($args -contains '--debug') { $env:PGIG_DEBUG = '1' }
$cakeArgs = @($args | Where-Object { $_ -ne '--debug' } | ForEach-Object { if ($_ -in '-h', '--help', '-?') { '--show-help' } else { $_ } })
dotnet tool restore | Out-Null
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
dotnet cake build/build.cake @cakeArgs
exit $LASTEXITCODE
