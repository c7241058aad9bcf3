#!/usr/bin/env pwsh
<#
.SYNOPSIS
  Developer tasks for the allocation service.
.EXAMPLE
  dotnet tool restore; dotnet pwsh ./build.ps1 test
.EXAMPLE
  dotnet pwsh ./build.ps1 bench --duration 15 --events 1000
.EXAMPLE
  dotnet pwsh ./build.ps1 chaos --quick
.EXAMPLE
  dotnet pwsh ./build.ps1 mutate application
#>
param(
    [Parameter(Position = 0)]
    [ValidateSet('restore', 'build', 'test', 'run', 'bench', 'chaos', 'mutate', 'clean')]
    [string] $Task = 'test',
    [string] $Configuration = 'Release',
    # mutate: run the PostgreSQL tests too (skipped by default: each would run once per mutant).
    [switch] $WithPostgres,
    # Passed on to the benchmark harness, e.g. ./build.ps1 bench --duration 5 --only allocate,events;
    # for mutate, the projects to mutate (domain, application; default both).
    [Parameter(ValueFromRemainingArguments = $true)]
    [string[]] $BenchArgs = @()
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $args failed with exit code $LASTEXITCODE" }
}

switch ($Task) {
    'restore' { Invoke-Dotnet restore }
    'build'   { Invoke-Dotnet build -c $Configuration }
    'test'    { Invoke-Dotnet test -c $Configuration }
    'run'     { Invoke-Dotnet run --project src/Allocation.Web -c $Configuration }
    'bench'   { Invoke-Dotnet run -c Release --project bench/Allocation.Benchmarks -- @BenchArgs }
    'chaos'   { Invoke-Dotnet run -c Release --project bench/Allocation.Benchmarks -- chaos @BenchArgs }
    'mutate'  {
        # Stryker.NET mutates one project per run, counting the unit and the integration tests (tests/mutation/*.json);
        # reports go to TestResults/mutation/<project>/reports (mutation-report.html, .json).
        Invoke-Dotnet tool restore
        $env:SKIP_POSTGRES = if ($WithPostgres) { '' } else { '1' }
        $projects = if ($BenchArgs.Count -gt 0) { $BenchArgs } else { @('domain', 'application') }
        Push-Location tests/mutation
        try {
            foreach ($project in $projects) {
                Invoke-Dotnet stryker --config-file "$project.json" --output "../../TestResults/mutation/$project"
            }
        }
        finally { Pop-Location }
    }
    'clean'   { Invoke-Dotnet clean; Remove-Item -Recurse -Force -ErrorAction SilentlyContinue TestResults }
}
