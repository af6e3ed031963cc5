using System.CommandLine;
using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary><c>lasthope import FILE</c>: loads historical logs (impressions and events) into the store.</summary>
internal static class ImportCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<FileInfo>("file") { Description = "A .jsonl file in the API's schema, or a .csv file with a column mapping." };
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var format = new Option<string>("--format") { Description = "jsonl, csv, or auto (by extension).", DefaultValueFactory = _ => "auto" };
        format.AcceptOnlyFromAmong("auto", "jsonl", "csv");
        var map = new Option<string?>("--map") { Description = "CSV column mapping: item=COL,position=COL,click=COL,time=COL,segment=COL,user=COL,age=COL,gender=COL,request=COL,surface=NAME." };
        var preset = new Option<string?>("--preset") { Description = "A known CSV layout instead of --map: open-bandit." };
        preset.AcceptOnlyFromAmong("open-bandit");
        var command = new Command("import", "Load historical logs, impressions included, into the embedded store.") { file, data, config, format, map, preset };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var input = parse.GetValue(file)!;
            if (!input.Exists)
            {
                return context.Fail(ExitCodes.NotFound, $"no such file: {input.FullName}");
            }

            var kind = parse.GetValue(format) is "auto" ? (input.Extension.Equals(".csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "jsonl") : parse.GetValue(format)!;
            CsvMapping? mapping = null;
            if (kind == "csv")
            {
                if (parse.GetValue(preset) is "open-bandit")
                {
                    mapping = CsvMapping.OpenBandit;
                }
                else if (parse.GetValue(map) is { } spec)
                {
                    try
                    {
                        mapping = CsvMapping.Parse(spec);
                    }
                    catch (FormatException e)
                    {
                        return context.Fail(ExitCodes.BadInput, $"--map: {e.Message}");
                    }
                }
                else
                {
                    return context.Fail(ExitCodes.BadInput, "a CSV import needs --map item=COLUMN,... or --preset open-bandit");
                }
            }

            LasthopeOptions options;
            try
            {
                options = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, CliContext.Invalid(e));
            }

            try
            {
                await using var store = await CliStores.OpenAsync(options, createIfMissing: true, cancellationToken);
                var importer = new LogImporter(store, options, TimeProvider.System);
                await using var stream = input.OpenRead();
                ImportReport report = null!;
                await context.Console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask($"Importing {input.Name}", maxValue: Math.Max(1, stream.Length));
                        var reporter = new Progress<long>(bytes => task.Value = bytes);
                        report = mapping is null
                            ? await importer.ImportJsonLinesAsync(stream, reporter, cancellationToken)
                            : await importer.ImportCsvAsync(stream, mapping, Path.GetFileNameWithoutExtension(input.Name), reporter, cancellationToken);
                        task.Value = task.MaxValue;
                    });
                PrintReport(context, report);
                return report.RejectedLines > 0 && report.AcceptedLines == 0 ? ExitCodes.BadInput : ExitCodes.Ok;
            }
            catch (FormatException e)
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

    private static void PrintReport(CliContext context, ImportReport report)
    {
        context.Out.WriteLine($"lines: {report.Lines}, accepted: {report.AcceptedLines}, rejected: {report.RejectedLines}");
        context.Out.WriteLine($"rankings: {report.Rankings}, impressions: {report.Impressions}, events: {report.Events}, duplicate events: {report.DuplicateEvents}");
        foreach (var (line, reason) in report.FirstRejections)
        {
            context.Out.WriteLine($"  rejected line {line}: {reason}");
        }

        foreach (var (reason, count) in report.OtherRejections.OrderByDescending(r => r.Value))
        {
            context.Out.WriteLine($"  ... and {count} more: {reason}");
        }
    }
}
