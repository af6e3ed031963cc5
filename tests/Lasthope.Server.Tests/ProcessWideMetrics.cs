namespace Lasthope.Server.Tests;

/// <summary>
/// Tests that read a value off /metrics which other servers could also report. OpenTelemetry listens to every meter
/// named Lasthope.Server in the process, so a test server's /metrics also shows the counters and gauges of the other
/// test servers running at the same time (one server per process, as in production, never meets this). These tests
/// run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(ProcessWideMetrics), DisableParallelization = true)]
public sealed class ProcessWideMetrics;
