# The pgig command (src/PgIg), built on first use and whenever its sources changed: ./pgig.ps1 --help
# Runs in the current directory, so relative paths (--config, cache_dir, ...) mean what they say.
$ErrorActionPreference = 'Stop'
$dll = Join-Path $PSScriptRoot 'src/PgIg/bin/Release/net10.0/pgig.dll'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
    Write-Error "pgig: the .NET SDK is required (version in global.json): https://dotnet.microsoft.com/download"
    exit 1
}
# the same inputs as the Cake build's up-to-date check
$built = if (Test-Path $dll) { (Get-Item $dll).LastWriteTimeUtc } else { [DateTime]::MinValue }
$sources = @(Get-ChildItem -Recurse -File (Join-Path $PSScriptRoot 'src'), (Join-Path $PSScriptRoot 'build/ElfVerneedFix'), (Join-Path $PSScriptRoot 'build/slurm') -Include *.cs, *.csproj, *.sbatch |
    Where-Object { $_.FullName -notmatch '[\\/](obj|bin)[\\/]' }) +
    @(Get-ChildItem -File (Join-Path $PSScriptRoot 'Directory.*.props'), (Join-Path $PSScriptRoot 'Directory.Build.targets'))
if ($sources | Where-Object { $_.LastWriteTimeUtc -gt $built } | Select-Object -First 1) {
    [Console]::Error.WriteLine('pgig: building src/PgIg (Release)...')
    dotnet build (Join-Path $PSScriptRoot 'src/PgIg/PgIg.csproj') -c Release --nologo -v quiet -clp:ErrorsOnly | Write-Host
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}
dotnet $dll @args
exit $LASTEXITCODE
