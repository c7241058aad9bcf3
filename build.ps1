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
#>
param(
    [Parameter(Position = 0)]
    [ValidateSet('restore', 'build', 'test', 'run', 'bench', 'chaos', 'clean')]
    [string] $Task = 'test',
    [string] $Configuration = 'Release',
    # Passed on to the benchmark harness, e.g. ./build.ps1 bench --duration 5 --only allocate,events
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
    'clean'   { Invoke-Dotnet clean; Remove-Item -Recurse -Force -ErrorAction SilentlyContinue TestResults }
}
