using System.Diagnostics;
using System.Globalization;
using Lasthope.Factors;

namespace Lasthope.Benchmarks.Factors;

/// <summary>
/// <c>--als-shapes</c>: seconds per ALS iteration on synthetic data of the shape of MovieLens-1M, MovieLens-20M and
/// last.fm-360k, with the peak working set. BenchmarkDotNet's repeated launches would take many minutes on the large
/// shapes, so this mode times iterations directly: it generates the data once, trains for N iterations and reports
/// every iteration, the mean of iterations 2..N (the first includes JIT tiering), and memory. It also reports the CPU
/// time per iteration and the load average: on a shared machine wall time inflates with other people's work, and CPU
/// time divided by the thread count is what the iteration takes with the cores to itself.
/// Usage: <c>--als-shapes [all|movielens-1m|movielens-20m|lastfm-360k] [--iterations N] [--factors F] [--threads T] [--cg-steps S] [--no-loss]</c>.
/// Run one shape per process for a clean peak working set.
/// </summary>
public static class AlsShapes
{
    public static int Run(string[] args)
    {
        var which = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "all";
        var iterations = IntOption(args, "--iterations", 5);
        var factors = IntOption(args, "--factors", 64);
        var threads = IntOption(args, "--threads", Environment.ProcessorCount);
        var cgSteps = IntOption(args, "--cg-steps", 3);
        var computeLoss = !args.Contains("--no-loss");
        var shapes = which == "all" ? DataShape.All : DataShape.All.Where(s => s.Name == which).ToList();
        if (shapes.Count == 0)
        {
            Console.Error.WriteLine($"Unknown shape '{which}'; one of: all, {string.Join(", ", DataShape.All.Select(s => s.Name))}.");
            return 2;
        }

        Console.WriteLine($"load average at start: {LoadAverage()}");
        Console.WriteLine($"ALS shapes: factors {factors}, threads {threads}, CG steps {cgSteps}, loss {(computeLoss ? "on" : "off")}, {Environment.ProcessorCount} cores, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        foreach (var shape in shapes)
        {
            var clock = Stopwatch.StartNew();
            var data = SyntheticInteractions.Generate(shape);
            _ = data.ByItem;
            var generated = clock.Elapsed.TotalSeconds;
            var times = new List<double>();
            var cpu = new List<double>();
            var losses = new List<double>();
            using var self = Process.GetCurrentProcess();
            var lastCpu = self.TotalProcessorTime;
            var options = new AlsOptions { Factors = factors, Iterations = iterations, Threads = threads, CgSteps = cgSteps, ComputeLoss = computeLoss };
            clock.Restart();
            var model = AlsTrainer.Train(data, options, new InlineProgress(r =>
            {
                times.Add(r.Elapsed.TotalSeconds);
                losses.Add(r.Loss);
                self.Refresh();
                cpu.Add((self.TotalProcessorTime - lastCpu).TotalSeconds);
                lastCpu = self.TotalProcessorTime;
            }));
            var trained = clock.Elapsed.TotalSeconds;
            GC.KeepAlive(model);
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var steady = times.Count > 1 ? times.Skip(1).Average() : times.Average();
            var steadyCpu = cpu.Count > 1 ? cpu.Skip(1).Average() : cpu.Average();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{shape.Name}: {data.Users.Count} users, {data.Items.Count} items, {data.NonZeros} nnz; generated in {generated:F1} s; " +
                $"per iteration [{string.Join(", ", times.Select(t => t.ToString("F3", CultureInfo.InvariantCulture)))}] s; " +
                $"mean of 2..{times.Count}: {steady:F3} s (CPU {steadyCpu:F3} s per iteration, so {steadyCpu / threads:F3} s if the {threads} threads had the cores to themselves); total {trained:F1} s; final loss {losses[^1]:G4}; " +
                $"peak working set {process.PeakWorkingSet64 / (1024.0 * 1024):F0} MiB; managed heap {GC.GetTotalMemory(false) / (1024.0 * 1024):F0} MiB; load average {LoadAverage()}"));
        }

        return 0;
    }

    /// <summary>The 1, 5 and 15 minute load averages (Linux), to tell a quiet run from a contended one on a shared machine.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static int IntOption(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class InlineProgress(Action<AlsIterationReport> report) : IProgress<AlsIterationReport>
    {
        public void Report(AlsIterationReport value) => report(value);
    }
}
