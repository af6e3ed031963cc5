using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Server.Hosting;
using Lasthope.Training;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope retrain</c>: trains a candidate from the surface's log, compares it with the active model (or the
/// heuristic) by off-policy estimates on the validation window's explored rankings, and activates it only when the
/// interval of the difference lies above 0 (<see cref="RetrainJob"/>). The decision is stored with the candidate;
/// the rollback is <c>lasthope model activate PREVIOUS</c>, printed with it.
/// </summary>
internal static class RetrainCommand
{
    public static Command Create(CliContext context)
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var training = new RankerTrainingOptions();
        var json = new Option<string?>("--json") { Description = "Also write the decision and its figures as JSON to FILE ('-' for standard output)." };
        var command = new Command("retrain", "Train a candidate re-ranker from the log; activate it only when its off-policy CTR is above the active policy's (the interval of the difference above 0).")
        {
            data, config, json,
        };
        training.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!training.TryRequest(parse, out var request, out var invalid))
            {
                return context.Fail(ExitCodes.BadInput, invalid!);
            }

            try
            {
                var options = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
                await using var store = await CliStores.OpenAsync(options, cancellationToken);
                var report = await RankerTrainingOptions.WithProgressAsync(context, request.Trees * request.Bags, progress => new RetrainJob(store, options.Serving).RunAsync(request, progress, cancellationToken));
                Print(context, report);
                if (parse.GetValue(json) is { } path)
                {
                    await context.WriteJsonAsync(path, JsonSerializer.Serialize(RetrainSummary.Of(report), ReportJson.Default.RetrainSummary), cancellationToken);
                }

                return ExitCodes.Ok;
            }
            catch (Exception e) when (TrainRankerCommand.IsTrainingFailure(e))
            {
                return TrainRankerCommand.Failed(context, e);
            }
        });
        return command;
    }

    private static void Print(CliContext context, RetrainReport report)
    {
        var training = report.Training;
        context.Error.WriteLine($"trained on {training.QueriesUsed - training.ValidationQueries:N0} {(training.ExploredOnly ? "explored " : "")}rankings with clicks; validation from {report.Check.ValidationFrom:u}");
        if (report.Check.Estimate is { } estimate)
        {
            RankerTrainingOptions.PrintOffPolicy(context, estimate);
        }

        var rollback = report.PreviousActive is { } previous ? $"lasthope model activate {previous}" : $"lasthope model deactivate {report.Surface}";
        context.Out.WriteLine(report.Decision switch
        {
            RetrainDecision.Activated => $"activated {report.Candidate.Version} for {report.Surface} in place of {report.Against}: {report.Reason}. Rollback: {rollback}",
            _ => $"kept {report.Against} on {report.Surface}; candidate {report.Candidate.Version} registered, not active: {report.Reason}",
        });
    }
}

/// <summary>The JSON form of a retraining's decision: what was compared, the figures, what is active now.</summary>
public sealed record RetrainSummary(
    string Surface,
    string Decision,
    string Reason,
    string Candidate,
    string Against,
    string? PreviousActive,
    DateTimeOffset ValidationFrom,
    Lasthope.Evaluation.OffPolicyComparison? Estimate)
{
    public static RetrainSummary Of(RetrainReport report) => new(
        report.Surface,
        report.Decision.ToString().ToLowerInvariant(),
        report.Reason,
        report.Candidate.Version,
        report.Against,
        report.PreviousActive,
        report.Check.ValidationFrom,
        report.Check.Estimate?.Comparison);
}
