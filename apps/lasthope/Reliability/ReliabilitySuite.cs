using System.Diagnostics;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// Runs the chosen drills one after the other (never together: each measures a server of its own), each in its own
/// workspace under the data root, which is deleted afterwards. A drill that throws is reported with its error and
/// the figures it had written; the others still run.
/// </summary>
public sealed class ReliabilitySuite(ReliabilityOptions options, bool quick)
{
    public static IDrill Create(string name, ReliabilityOptions options) => name switch
    {
        "fuzz" => new FuzzDrill(options),
        "kills" => new KillDrill(options),
        "slow" => new SlowClientDrill(options),
        "upload" => new UploadDrill(options),
        "restart" => new RestartDrill(options),
        _ => throw new ArgumentException($"unknown drill '{name}'; the drills are {string.Join(", ", ReliabilityOptions.AllDrills)}", nameof(name)),
    };

    /// <param name="progress">Called with (drill, fraction done) as the drills go.</param>
    public async Task<ReliabilityReport> RunAsync(Action<string, double> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var startedAt = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        var ownRoot = options.DataRoot is null;
        var root = options.DataRoot ?? Path.Combine(Path.GetTempPath(), $"lasthope-reliability-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var results = new List<DrillResult>();
        try
        {
            foreach (var name in options.Drills)
            {
                var drill = Create(name, options);
                var result = new DrillResult(name);
                results.Add(result);
                var drillStarted = Stopwatch.GetTimestamp();
                using (var workspace = new DrillWorkspace(root, name, options))
                {
                    try
                    {
                        await drill.RunAsync(result, workspace, new Progress<double>(p => progress(name, p)), cancellationToken);
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        result.Error = $"{e.GetType().Name}: {e.Message}";
                    }
                }

                result.Seconds = Math.Round(Stopwatch.GetElapsedTime(drillStarted).TotalSeconds, 1);
                result.FinishNotes();
                progress(name, 1);
            }
        }
        finally
        {
            if (ownRoot)
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }

        return new ReliabilityReport(options.Seed, quick, startedAt, Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 1), ServerProcess.Executable, results);
    }
}
