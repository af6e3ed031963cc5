using System.Globalization;
using Lasthope.Cli.Demo;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>Runs <c>demo --scenario ltv</c> with a progress line and prints what it measured.</summary>
internal static class LtvOutput
{
    public static async Task<int> RunAsync(CliContext context, LtvOptions options, string? html, CancellationToken cancellationToken)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            return context.Fail(ExitCodes.BadInput, e.Message);
        }

        LtvResult result = null!;
        await context.Console.Status().StartAsync("ltv", async status =>
        {
            result = await Task.Run(() => LtvScenario.Run(options, new Progress<string>(s => status.Status(s)), cancellationToken), cancellationToken);
        });
        var o = context.Out;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Players:N0} players; {result.TrainPlayers:N0} of the old cohorts train, {result.PredictedPlayers:N0} of the new ones are predicted from their first 7 days; {result.Whales:N0} whales (top 1% of payers); BI multiplier {result.Multiplier:F3}"));
        var revenue = result.Revenue;
        o.WriteLine($"90-day revenue per player on the new cohorts (95% bootstrap intervals over players):");
        for (var k = 0; k < revenue.Metrics.Count; k++)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {revenue.Metrics[k],-6} {string.Join("   ", revenue.Models.Select((m, i) => $"{m} {revenue.Values[i][k]}"))}   {revenue.Models[0]} - {revenue.BestBaseline} {TrainModelOutput.Signed(revenue.Difference[k])}"));
        }

        o.WriteLine(revenue.Verdict);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"whale ranking AUC: {result.WhaleRanking.Models[0]} {result.WhaleRanking.Values[0][0]}, {result.WhaleRanking.Models[1]} {result.WhaleRanking.Values[1][0]}; {result.WhaleRanking.Verdict}"));
        foreach (var p in result.WhalePrecisions)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  whale precision at k = {p.K,5:N0}: {p.Scorer,-22} {p.Estimate:P1} [{p.Lower:P1}, {p.Upper:P1}]"));
        }

        if (html is not null)
        {
            await File.WriteAllTextAsync(html, Charts.LtvHtml.Render(result, options, DateTimeOffset.UtcNow), cancellationToken);
            context.Error.WriteLine($"wrote {html}");
        }

        context.Error.WriteLine($"the player tables are in {result.DataDirectory}");
        return ExitCodes.Ok;
    }
}
