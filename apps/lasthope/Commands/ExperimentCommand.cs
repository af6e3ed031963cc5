using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Lasthope.Cli.Charts;
using Lasthope.Client;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Lasthope.Server.Experiments;
using Lasthope.Evaluation;
using Lasthope.Server.Hosting;
using Lasthope.Training;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope experiment report</c>: an experiment read out of a data directory's impression log, as
/// <c>GET /v1/experiments/{id}/report</c> reads it (<see cref="ExperimentReports"/>).
/// </summary>
internal static class ExperimentCommand
{
    public static Command Create(CliContext context)
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var server = CommonOptions.Url("--server", "Ask a running server (e.g. http://127.0.0.1:8080, GET /v1/experiments/{id}/report) instead of reading the data directory; its window ends at the server's clock.");
        var apiKey = CommonOptions.ApiKey();
        var experiment = new Option<string>("--experiment", "-e") { Description = "The experiment's id (Serving:Experiments:N:Id).", Required = true };
        var days = new Option<int>("--days") { Description = "The days of log to read (1 to 90), counted back from the surface's newest ranking (event time).", DefaultValueFactory = _ => 30 };
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to FILE ('-' for standard output)." };
        var html = new Option<string?>("--html") { Description = "Also write the report as one self-contained HTML page with charts (CTR per arm by day, requests by served path) to FILE." };
        var report = new Command("report", "Read an experiment out of the log: per arm CTR with user-clustered intervals, the ITT effect, the paths that served, the sample-ratio test, the fallback-skew alarm and a verdict.")
        {
            data, config, server, apiKey, experiment, days, json, html,
        };
        report.SetAction(async (parse, cancellationToken) =>
        {
            var window = parse.GetValue(days);
            if (window is < 1 or > 90)
            {
                return context.Fail(ExitCodes.BadInput, "--days must be 1 to 90.");
            }

            var id = parse.GetValue(experiment)!;
            try
            {
                var read = parse.GetValue(server) is { } url
                    ? await FromServerAsync(url, parse.GetValue(apiKey), id, window, cancellationToken)
                    : await FromDataAsync(parse.GetValue(data)!, parse.GetValue(config), id, window, cancellationToken);
                if (read is null)
                {
                    return context.Fail(ExitCodes.BadInput, $"no experiment '{id}' is configured (Serving:Experiments); give the server's --config.");
                }

                Print(context, read);
                if (parse.GetValue(json) is { } path)
                {
                    await context.WriteJsonAsync(path, JsonSerializer.Serialize(read, ReportJson.Default.ExperimentReport), cancellationToken);
                }

                if (parse.GetValue(html) is { } page)
                {
                    await File.WriteAllTextAsync(page, ExperimentHtml.Render(read, DateTimeOffset.UtcNow), cancellationToken);
                    context.Out.WriteLine($"wrote {page}");
                }

                return ExitCodes.Ok;
            }
            catch (LasthopeApiException e) when (e.Status == HttpStatusCode.NotFound)
            {
                return context.Fail(ExitCodes.NotFound, $"the server has no experiment '{id}': {e.Problem?.Detail}");
            }
            catch (LasthopeApiException e)
            {
                return context.Fail(ExitCodes.Failure, $"the server refused the report: {e.Message}");
            }
            catch (HttpRequestException e)
            {
                return context.Fail(ExitCodes.Failure, $"the server did not answer: {e.Message}");
            }
            catch (Exception e) when (e is ArgumentException or ExperimentWindowTooLargeException or IOException or UnauthorizedAccessException)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (StoreUnavailableException e)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }
        });
        return new Command("experiment", "Experiments: read them out.") { report };
    }

    private static async Task<ExperimentReport?> FromDataAsync(string data, string? config, string id, int window, CancellationToken cancellationToken)
    {
        var options = LasthopeServer.LoadOptions(CommonOptions.Setup(data, config));
        await using var store = await CliStores.OpenAsync(options, cancellationToken);
        var reports = new ExperimentReports(store, options.Serving);

        // In event time: the last N days before the experiment surface's newest ranking, so that a simulated or
        // imported history reads the same on any day.
        var newest = reports.Find(id) is { } configured ? await LogWindow.NewestRankingAsync(store, configured.Surface, cancellationToken) : null;
        return await reports.ReadAsync(id, (newest ?? DateTimeOffset.UtcNow).AddDays(-window), cancellationToken);
    }

    private static async Task<ExperimentReport> FromServerAsync(Uri server, string? apiKey, string id, int window, CancellationToken cancellationToken)
    {
        using var http = CommonOptions.Client(server, apiKey, TimeSpan.FromSeconds(60));
        var r = await new LasthopeClient(http).GetExperimentReportAsync(id, window, cancellationToken);
        static Interval Of(ReportInterval i) => new(i.Estimate, i.Lower, i.Upper, i.Level);
        return new ExperimentReport(
            r.ExperimentId,
            r.Control,
            [.. r.Arms.Select(a => new ArmReadout(
                a.Arm, a.Users, a.Requests, a.Impressions, a.Clicks, Of(a.Ctr), a.EffectVsControl is { } e ? Of(e) : null, a.MeantModel, a.FallbackShare,
                [.. a.Paths.Select(p => new PathCell(p.ServedBy, p.FallbackReason, p.Requests, p.Impressions, p.Clicks))],
                [.. a.Days.Select(d => new ArmDay(d.Day, d.Requests, d.Impressions, d.Clicks, d.ServedByModel))]))],
            new SampleRatioTest(r.Srm.ChiSquare, r.Srm.DegreesOfFreedom, r.Srm.PValue, r.Srm.Alarm),
            new FallbackSkew(r.FallbackSkew.Arm, r.FallbackSkew.FallbackShare, r.FallbackSkew.PartialShare, r.FallbackSkew.Threshold, r.FallbackSkew.Alarm),
            r.Verdict);
    }

    private static void Print(CliContext context, ExperimentReport report)
    {
        var arms = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"experiment {report.ExperimentId} (control: {report.Control})"))
            .AddColumns("arm", "users", "requests", "impressions", "clicks", "CTR [[95%]]", "effect vs control", "fallback share", "partial share");
        foreach (var a in report.Arms)
        {
            arms.AddRow(
                Markup.Escape(a.Arm), Number(a.Users), Number(a.Requests), Number(a.Impressions), Number(a.Clicks),
                Markup.Escape(Share(a.Ctr.Estimate, a.Ctr.Lower, a.Ctr.Upper)),
                a.EffectVsControl is { } e ? Markup.Escape(Share(e.Estimate, e.Lower, e.Upper)) : "-",
                a.MeantModel ? (a.FallbackShare * 100).ToString("F1", CultureInfo.InvariantCulture) + "%" : "-",
                a.MeantModel ? (a.PartialShare * 100).ToString("F1", CultureInfo.InvariantCulture) + "%" : "-");
        }

        context.Console.Write(arms);
        var paths = new Table().Border(TableBorder.Rounded).Title("as served").AddColumns("arm", "servedBy", "reason", "requests", "CTR");
        foreach (var a in report.Arms)
        {
            foreach (var p in a.Paths)
            {
                paths.AddRow(Markup.Escape(a.Arm), p.ServedBy.ToWire(), p.Reason?.ToWire() ?? "-", Number(p.Requests), double.IsFinite(p.Ctr) ? (p.Ctr * 100).ToString("F2", CultureInfo.InvariantCulture) + "%" : "-");
            }
        }

        context.Console.Write(paths);
        var srm = report.SampleRatio;
        context.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"sample ratio: chi-square {srm.ChiSquare:F2}, p = {srm.PValue:G3}")) + (srm.Alarm ? " [red]ALARM[/]" : " [green]ok[/]"));
        var skew = report.FallbackSkew;
        context.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"fallback skew: {skew.Arm ?? "no model arm"} {skew.FallbackShare * 100:F1}% fell back, {skew.PartialShare * 100:F1}% partly re-ranked (threshold {skew.Threshold * 100:F0}% for the two)")) + (skew.Alarm ? " [red]ALARM[/]" : " [green]ok[/]"));
        context.Console.MarkupLine(Markup.Escape(report.Verdict));
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Share(double estimate, double lower, double upper) =>
        string.Create(CultureInfo.InvariantCulture, $"{estimate * 100:F2}% [{lower * 100:F2}, {upper * 100:F2}]");
}
