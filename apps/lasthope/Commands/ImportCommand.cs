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
        var log = new LogFileOptions();
        var items = new Option<bool>("--items") { Description = "FILE is an item file: CSV with a header (id, category, then numeric attributes) or JSON lines ({\"id\", \"category\", \"attributes\": {...}}), as POST /v1/items takes." };
        var command = new Command("import", "Load historical logs, impressions included, or an item file (--items) into the configured store (the embedded one by default).") { file, data, config, items };
        log.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var input = parse.GetValue(file)!;
            if (!input.Exists)
            {
                return context.Fail(ExitCodes.NotFound, $"no such file: {input.FullName}");
            }

            CsvMapping? mapping = null;
            if (!parse.GetValue(items) && !log.TryResolve(parse, input, out mapping, out var problem))
            {
                return context.Fail(ExitCodes.BadInput, problem!);
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
                if (parse.GetValue(items))
                {
                    return await ImportItemsAsync(context, store, options, input, cancellationToken);
                }

                var importer = new LogImporter(store, options, TimeProvider.System);
                ImportReport report = null!;
                await context.Console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask($"Importing {input.Name}", maxValue: Math.Max(1, input.Length));
                        report = await LogFileOptions.ImportAsync(importer, input, mapping, new Progress<long>(bytes => task.Value = bytes), cancellationToken);
                        task.Value = task.MaxValue;
                    });
                PrintReport(context, report);
                return report.RejectedLines > 0 && report.AcceptedLines == 0 ? ExitCodes.BadInput : ExitCodes.Ok;
            }
            catch (FormatException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (ItemCatalogFullException e)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }
            catch (StoreUnavailableException e)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }
        });
        return command;
    }

    /// <summary>An item file, through the same checks as POST /v1/items; the catalog's capacity counts what the store holds already.</summary>
    private static async Task<int> ImportItemsAsync(CliContext context, IEventStore store, LasthopeOptions options, FileInfo input, CancellationToken cancellationToken)
    {
        var itemStore = StoreSelection.ItemStoreOf(store);
        var catalog = new Server.State.ItemCatalog(options.Limits.MaxItems, kept: new HashSet<string>()); // only counts, for the capacity
        var known = new List<Core.Items.ItemAttributes>();
        await foreach (var item in itemStore.ReadItemsAsync(cancellationToken))
        {
            known.Add(item);
        }

        catalog.TrySet(known);
        using var ingestor = new ItemIngestor(itemStore, catalog, TimeProvider.System);
        var importer = new ItemImporter(ingestor);
        ItemImportReport report = null!;
        await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"Importing items from {input.Name}", maxValue: Math.Max(1, input.Length));
                await using var stream = input.OpenRead();
                var bytes = new Progress<long>(b => task.Value = b);
                report = input.Extension.Equals(".csv", StringComparison.OrdinalIgnoreCase)
                    ? await importer.ImportCsvAsync(stream, bytes, cancellationToken)
                    : await importer.ImportJsonLinesAsync(stream, bytes, cancellationToken);
                task.Value = task.MaxValue;
            });
        context.Out.WriteLine($"lines: {report.Lines}, items stored: {report.Stored}, rejected: {report.Rejected}");
        foreach (var (line, reason) in report.FirstRejections)
        {
            context.Out.WriteLine($"  rejected line {line}: {reason}");
        }

        foreach (var (reason, count) in report.OtherRejections.OrderByDescending(r => r.Value))
        {
            context.Out.WriteLine($"  ... and {count} more: {reason}");
        }

        return report.Rejected > 0 && report.Stored == 0 ? ExitCodes.BadInput : ExitCodes.Ok;
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

        if (report.ImpressionsOutsideWindow > 0)
        {
            context.Error.WriteLine(
                $"warning: {report.ImpressionsOutsideWindow:N0} of {report.Impressions:N0} imported impressions are older than the counters' long window " +
                $"({report.LongWindow.TotalDays:0.###} days) at the current clock, so a server started now counts them in no window. They are stored, and " +
                $"training, ope and replay read them; to serve as of the log's time, start the server with --clock-start {report.Newest:O}, or use `lasthope replay`.");
        }
    }
}
