using System.Globalization;
using System.Text.Json;
using Lasthope.Cli.Demo;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>Runs <c>demo --scenario ab-test</c> with a stage line per step, and prints what each phase showed.</summary>
internal static class AbTestOutput
{
    public static async Task<int> RunAsync(CliContext context, AbTestOptions options, string? json, CancellationToken cancellationToken)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            return context.Fail(ExitCodes.BadInput, e.Message);
        }

        var result = await new AbTestScenario(options).RunAsync(stage => context.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {stage}"), cancellationToken);
        Print(context, result);
        if (json is not null)
        {
            await context.WriteJsonAsync(json, JsonSerializer.Serialize(result, ReportJson.Default.AbTestResult), cancellationToken);
        }

        return ExitCodes.Ok;
    }

    private static void Print(CliContext context, AbTestResult result)
    {
        var c = result.Calibration;
        context.Out.WriteLine(Invariant($"model {result.Model}: {result.ModelTrees} trees, trained on {result.TrainingQueries:N0} explored queries; load: {result.Concurrency} requests in flight"));
        context.Out.WriteLine(Invariant($"budget {c.BudgetMs:F2} ms (+1 ms reserve): K = 1000's median on the calibration day (its 30th percentile {c.K1000P30:F2} ms, p99 {c.K1000.P99:F2} ms); K = 300's p50 {c.K300.P50:F2} ms, p99 {c.K300.P99:F2} ms{(c.Separable ? "" : "; K = 300's p99 is above the budget on this machine, so the phases cannot separate cleanly")}"));
        var table = new Table().Border(TableBorder.Rounded).AddColumns("K", "arm", "users", "CTR [[95%]]", "fallback / partial", "ITT (model - control)", "SRM", "fallback skew");
        foreach (var phase in result.Phases)
        {
            foreach (var arm in phase.Arms)
            {
                var model = arm.Arm == "model";
                table.AddRow(
                    phase.RerankDepth.ToString(CultureInfo.InvariantCulture), Markup.Escape(arm.Arm), arm.Users.ToString("N0", CultureInfo.InvariantCulture), Share(arm.Ctr),
                    model ? $"{Percent(arm.FallbackShare, 1)} / {Percent(arm.PartialShare, 1)}" : "-", model ? Share(phase.Itt) : "",
                    model ? Invariant($"p = {phase.Srm.PValue:G3}{(phase.Srm.Alarm ? " ALARM" : "")}") : "",
                    model ? (phase.FallbackSkew.Alarm ? "ALARM" : "silent") : "");
            }
        }

        context.Console.Write(table);
        foreach (var phase in result.Phases)
        {
            context.Out.WriteLine($"K = {phase.RerankDepth}: {phase.Verdict}");
        }

        var study = new Table().Border(TableBorder.Rounded).Title("depth study (no deadline)").AddColumns("K", "NDCG@10 [[95%]]", "vs heuristic", "server p99 ms");
        foreach (var d in result.DepthStudy)
        {
            study.AddRow(d.Depth.ToString(CultureInfo.InvariantCulture), Markup.Escape(Interval(d.Ndcg10.Estimate, d.Ndcg10.Lower, d.Ndcg10.Upper, "F4")),
                d.Depth == 0 ? "" : Markup.Escape(Interval(d.DifferenceFromHeuristic.Estimate, d.DifferenceFromHeuristic.Lower, d.DifferenceFromHeuristic.Upper, "F4")), d.Server.P99.ToString("F2", CultureInfo.InvariantCulture));
        }

        context.Console.Write(study);
        context.Out.WriteLine(Invariant($"data directory {result.DataDirectory}; {result.Seconds:F0} s"));
    }

    private static string Share(EstimateWithCi e) => Markup.Escape(Invariant($"{e.Estimate * 100:F2}% [{e.Ci[0] * 100:F2}, {e.Ci[1] * 100:F2}]"));

    private static string Interval(double estimate, double lower, double upper, string format) =>
        $"{estimate.ToString(format, CultureInfo.InvariantCulture)} [{lower.ToString(format, CultureInfo.InvariantCulture)}, {upper.ToString(format, CultureInfo.InvariantCulture)}]";

    private static string Percent(double share, int decimals) => (share * 100).ToString("F" + decimals, CultureInfo.InvariantCulture) + "%";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
