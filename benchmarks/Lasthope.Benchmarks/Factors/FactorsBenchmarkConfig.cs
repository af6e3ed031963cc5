using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Lasthope.Benchmarks.Factors;

/// <summary>
/// The job of the Factors benchmarks: in process (no generated project to build, so a run never touches the shared
/// artifacts folder) with few iterations, because one invocation of the larger cases takes milliseconds to seconds
/// and the machine is shared; MemoryDiagnoser shows the allocation per call.
/// </summary>
public sealed class FactorsBenchmarkConfig : ManualConfig
{
    public FactorsBenchmarkConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
