using System.CommandLine;
using System.Globalization;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Lasthope.Server.Hosting;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope log-summary</c>: what actually served, from the server's own impression log: rankings by surface,
/// experiment arm, servedBy and fallback reason. The truth an experiment's analysis starts from.
/// </summary>
internal static class LogSummaryCommand
{
    public static Command Create(CliContext context)
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var since = new Option<DateTimeOffset?>("--since") { Description = "Only rankings served at or after this time (the server's clock)." };
        var surface = new Option<string?>("--surface") { Description = "Only this surface." };
        var command = new Command("log-summary", "Count logged rankings by surface, arm, servedBy and fallback reason: what actually served.") { data, config, since, surface };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var options = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
                await using var store = await CliStores.OpenAsync(options, cancellationToken);
                var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
                long total = 0;
                await foreach (var entry in store.ReadLogAsync(parse.GetValue(since) ?? DateTimeOffset.MinValue, cancellationToken))
                {
                    if (entry.Ranking is not { } r || (parse.GetValue(surface) is { } only && r.Surface != only))
                    {
                        continue;
                    }

                    var key = $"{r.Surface}\t{r.Experiment?.Arm ?? "-"}\t{r.ServedBy.ToWire()}\t{r.FallbackReason?.ToWire() ?? "-"}";
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                    total++;
                }

                context.Out.WriteLine("surface\tarm\tservedBy\tfallbackReason\trankings\tshare");
                foreach (var (key, count) in counts)
                {
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{key}\t{count}\t{(double)count / total:P2}"));
                }

                return ExitCodes.Ok;
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (StoreUnavailableException e)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }
        });
        return command;
    }
}
