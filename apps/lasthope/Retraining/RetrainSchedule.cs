using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lasthope.Cli.Commands;
using Lasthope.Cli.Reliability;
using Lasthope.Server.Configuration;
using Lasthope.Server.Models;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lasthope.Cli.Retraining;

/// <summary>
/// The server's retraining schedule (<see cref="RetrainingOptions"/>): every period, for each surface in turn, it
/// runs <c>lasthope retrain</c> as a child process on the server's data directory and configuration, and when the
/// child activated its candidate, swaps that model in live (the registry's warm-up, then an atomic swap). A child
/// process keeps native LightGBM, the training's memory and any crash of it out of the serving process; a failed or
/// refused retraining is logged and the schedule goes on.
/// </summary>
public sealed partial class RetrainSchedule(RetrainingOptions options, ServingOptions serving, ModelRegistry registry, RetrainSchedule.Target target, TimeProvider time, ILogger<RetrainSchedule> logger) : BackgroundService
{
    /// <summary>The longest one retraining may take before it is stopped.</summary>
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromHours(2);

    /// <summary>Where the child reads its data and configuration: the server's own.</summary>
    public sealed record Target(string DataDirectory, string? ConfigFile);

    /// <summary>Adds the schedule to a server's services when its configuration turns it on.</summary>
    public static void Register(IServiceCollection services, string? configFile)
    {
        services.AddSingleton(sp => new Target(Path.GetFullPath(sp.GetRequiredService<StorageOptions>().DataDirectory), configFile is null ? null : Path.GetFullPath(configFile)));
        services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<LasthopeOptions>>().Value.Retraining);
        services.AddSingleton<RetrainSchedule>();
        services.AddHostedService(sp => sp.GetRequiredService<RetrainSchedule>());
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // A surface the server does not know would retrain nothing it serves: refuse the start, naming the key.
        if (options.Surfaces.FirstOrDefault(s => s != "default" && !serving.Surfaces.ContainsKey(s)) is { } unknown)
        {
            throw new ArgumentException($"Retraining:Surfaces: '{unknown}' is not a configured surface (Serving:Surfaces) nor 'default'.");
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.EveryHours <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromHours(options.EveryHours), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunOnceAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: each surface retrained in turn; the decisions, in the same order.</summary>
    public async Task<IReadOnlyList<RetrainSummary?>> RunOnceAsync(CancellationToken cancellationToken)
    {
        var decisions = new List<RetrainSummary?>();
        foreach (var surface in options.Surfaces)
        {
            RetrainSummary? decision = null;
            try
            {
                decision = await RetrainAsync(surface, cancellationToken);
                if (decision is { Decision: "activated" })
                {
                    await registry.ActivateAsync(surface, decision.Candidate, cancellationToken);
                }

                if (decision is not null)
                {
                    LogDecision(logger, surface, decision.Decision, decision.Candidate, decision.Against, decision.Reason);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogFailed(logger, surface, e.Message);
            }

            decisions.Add(decision);
        }

        return decisions;
    }

    /// <summary>Runs the child; its decision, or null (logged) when it trained nothing.</summary>
    private async Task<RetrainSummary?> RetrainAsync(string surface, CancellationToken cancellationToken)
    {
        var json = Path.Combine(Path.GetTempPath(), $"lasthope-retrain-{Guid.NewGuid():N}.json");
        var info = new ProcessStartInfo(ServerProcess.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var args = new List<string>
        {
            ServerProcess.Executable, "retrain", "--data", target.DataDirectory, "--surface", surface, "--json", json,
            "--days", Invariant(options.Days), "--valid-fraction", Invariant(options.ValidFraction), "--trees", Invariant(options.Trees), "--num-leaves", Invariant(options.Leaves),
            "--min-data-in-leaf", Invariant(options.MinDataInLeaf), "--threads", Invariant(options.Threads),
        };
        if (target.ConfigFile is { } config)
        {
            args.AddRange(["--config", config]);
        }

        args.ForEach(info.ArgumentList.Add);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("the retrain process did not start");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ChildTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        await Task.WhenAll(output, error);
        try
        {
            if (process.ExitCode != ExitCodes.Ok || !File.Exists(json))
            {
                LogNothingTrained(logger, surface, process.ExitCode, Last(error.Result));
                return null;
            }

            return JsonSerializer.Deserialize(await File.ReadAllTextAsync(json, cancellationToken), ReportJson.Default.RetrainSummary);
        }
        finally
        {
            File.Delete(json);
        }
    }

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The last line a child wrote to its error stream (the CLI's message), bounded.</summary>
    private static string Last(string text)
    {
        var line = text.TrimEnd().Split('\n')[^1];
        return line.Length > 500 ? line[..500] : line;
    }

    [LoggerMessage(EventId = LogEvents.RetrainDecided, Level = LogLevel.Information, Message = "Retraining {Surface}: {Decision} candidate {Candidate} against {Against}: {Reason}")]
    private static partial void LogDecision(ILogger logger, string surface, string decision, string candidate, string against, string reason);

    [LoggerMessage(EventId = LogEvents.RetrainTrainedNothing, Level = LogLevel.Warning, Message = "Retraining {Surface} trained nothing (exit {ExitCode}): {Message}")]
    private static partial void LogNothingTrained(ILogger logger, string surface, int exitCode, string message);

    [LoggerMessage(EventId = LogEvents.RetrainFailed, Level = LogLevel.Error, Message = "Retraining {Surface} failed: {Message}")]
    private static partial void LogFailed(ILogger logger, string surface, string message);
}
