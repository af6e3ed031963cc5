using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Client;
using Lasthope.Core.Segments;
using Lasthope.Core.Storage;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Lasthope.Server.State;
using Lasthope.Server.Stats;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary><c>lasthope stats ITEM</c>: the counters of an item per segment, as GET /v1/items/{id}/stats gives them.</summary>
internal static class StatsCommand
{
    public static Command Create(CliContext context)
    {
        var item = new Argument<string>("item") { Description = "The item id." };
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var server = CommonOptions.Url("--server", "Ask a running server (e.g. http://127.0.0.1:8080) instead of reading the data directory.");
        var json = new Option<bool>("--json") { Description = "Print the JSON of the API instead of a table." };
        var apiKey = CommonOptions.ApiKey();
        var command = new Command("stats", "Show an item's impressions, clicks, CTR 7d/30d, trend and heuristic score, per segment and overall.") { item, data, config, server, json, apiKey };
        command.SetAction(async (parse, cancellationToken) =>
        {
            ItemStats stats;
            try
            {
                stats = parse.GetValue(server) is { } url
                    ? await FromServerAsync(url, parse.GetValue(apiKey), parse.GetValue(item)!, cancellationToken)
                    : await FromDataAsync(parse.GetValue(data)!, parse.GetValue(config), parse.GetValue(item)!, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                return context.Fail(ExitCodes.Failure, $"the server did not answer: {e.Message}");
            }
            catch (StoreUnavailableException e)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, CliContext.Invalid(e));
            }

            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(stats, CliJson.Default.ItemStats));
            }
            else
            {
                Print(context, stats);
            }

            return stats.Known ? ExitCodes.Ok : ExitCodes.NotFound;
        });
        return command;
    }

    private static async Task<ItemStats> FromServerAsync(Uri server, string? apiKey, string item, CancellationToken cancellationToken)
    {
        using var client = CommonOptions.Client(server, apiKey, TimeSpan.FromSeconds(10));
        return await client.GetFromJsonAsync($"/v1/items/{Uri.EscapeDataString(item)}/stats", CliJson.Default.ItemStats, cancellationToken)
            ?? throw new HttpRequestException("empty response");
    }

    private static async Task<ItemStats> FromDataAsync(string data, string? config, string item, CancellationToken cancellationToken)
    {
        var options = LasthopeServer.LoadOptions(CommonOptions.Setup(data, config));
        await using var store = await CliStores.OpenAsync(options, cancellationToken);
        var state = await CounterState.LoadAsync(store, options, TimeProvider.System, new UserSegments(), NullLogger.Instance, cancellationToken);
        return new ItemStatsService(state, new SegmentScheme(options.Segments)).Compute(item);
    }

    private static void Print(CliContext context, ItemStats stats)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = Math.Max(console.Profile.Width, 140);
        console.WriteLine($"item {stats.ItemId}{(stats.Known ? "" : " (no data: every figure is a prior)")}; heuristic {stats.HeuristicVersion}");
        var table = new Table().AddColumns("segment", "impr 7d", "clicks 7d", "impr 30d", "clicks 30d", "CTR 7d", "CTR 30d", "trend", "score", "level");
        foreach (var row in stats.Segments.Prepend(stats.Overall))
        {
            table.AddRow(
                row.Segment,
                F(row.Impressions7d, "N0"),
                F(row.Clicks7d, "N1"),
                F(row.Impressions30d, "N0"),
                F(row.Clicks30d, "N1"),
                F(row.Ctr7d, "P2"),
                F(row.Ctr30d, "P2"),
                F(row.Trend, "+0.0000;-0.0000;0"),
                F(row.HeuristicScore, "F5"),
                row.Level);
        }

        console.Write(table);
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
