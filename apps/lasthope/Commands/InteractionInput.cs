using System.CommandLine;
using Lasthope.Core.Storage;
using Lasthope.Factors;
using Lasthope.Server.Hosting;
using Lasthope.Server.Recommend;

namespace Lasthope.Cli.Commands;

/// <summary>
/// Where interactions come from: a CSV (<c>--input FILE</c>, <c>--header</c>), or the event store (<c>--data DIR</c>):
/// the interaction events of the last <c>--days</c>, each weighted by its configured type weight (click 1, conversion 3,
/// ...), repeated (user, item) pairs summed. Only the options and their messages live here: CSVs are read by the
/// library's <see cref="InteractionCsv"/> into an <see cref="InteractionLogBuilder"/>, store events by
/// <see cref="StoreInteractions"/>.
/// </summary>
internal sealed class InteractionInput
{
    public Option<string?> Input { get; } = new("--input", "-i") { Description = "A CSV of user,item[,weight[,timestamp]] lines (header optional)." };

    public Option<CsvHeader> Header { get; } = new("--header") { Description = "Whether the CSV's first line is a header.", DefaultValueFactory = _ => CsvHeader.Auto };

    public Option<string?> Data { get; } = new("--data") { Description = "Train from the interaction events in this data directory's store instead of a CSV." };

    public Option<double> Days { get; } = new("--days") { Description = "With --data: the days of events to train on.", DefaultValueFactory = _ => 90 };

    public void AddTo(Command command)
    {
        command.Add(Input);
        command.Add(Header);
        command.Add(Data);
        command.Add(Days);
    }

    public async Task<(InteractionLog? Log, int Failure)> LoadAsync(ParseResult parse, CliContext context, CancellationToken cancellationToken)
    {
        var path = parse.GetValue(Input);
        var data = parse.GetValue(Data);
        if (string.IsNullOrEmpty(path) == string.IsNullOrEmpty(data))
        {
            return (null, context.Fail(ExitCodes.BadInput, "give the interactions with either --input FILE or --data DIR."));
        }

        if (path is not null)
        {
            return TryRead(path, parse.GetValue(Header), null, context, out var log, out var failure) ? (log, ExitCodes.Ok) : (null, failure);
        }

        // Opening the store of a data directory is the CLI's (CliStores picks the implementation the app references);
        // turning its events into a log is the library's (StoreInteractions).
        try
        {
            var options = LasthopeServer.LoadOptions(CommonOptions.Setup(data!, null));
            await using var store = await CliStores.OpenAsync(options, cancellationToken);
            var built = await StoreInteractions.ReadLogAsync(store, DateTimeOffset.UtcNow - TimeSpan.FromDays(parse.GetValue(Days)), cancellationToken);
            return built.Count == 0
                ? (null, context.Fail(ExitCodes.BadInput, $"the store in {data} holds no interaction events with a user id in the last {parse.GetValue(Days)} days."))
                : (built, ExitCodes.Ok);
        }
        catch (StoreUnavailableException e)
        {
            return (null, context.Fail(ExitCodes.Failure, e.Message));
        }
    }

    /// <summary>Reads a CSV; with <paramref name="knownItems"/> (and <paramref name="knownUsers"/>), those keep their indices and new ones follow.</summary>
    /// <param name="option">The option that named the file (<c>--test</c>): messages start with it, so the user knows which input is wrong.</param>
    public static bool TryRead(string path, CsvHeader header, IdMap? knownItems, CliContext context, out InteractionLog log, out int failure, IdMap? knownUsers = null, string? option = null)
    {
        log = null!;
        failure = ExitCodes.Ok;
        var name = option is null ? path : $"{option} {path}";
        try
        {
            var builder = new InteractionLogBuilder(knownUsers, knownItems);
            using (var reader = new StreamReader(path))
            {
                InteractionCsv.Read(reader, builder, header);
            }

            log = builder.Build();
            if (log.Count == 0)
            {
                failure = context.Fail(ExitCodes.BadInput, $"{name} holds no interactions.");
                return false;
            }

            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            failure = context.Fail(ExitCodes.NotFound, $"{name} does not exist.");
        }
        catch (FormatException e)
        {
            failure = context.Fail(ExitCodes.BadInput, $"{name}: {e.Message}");
        }
        catch (IOException e)
        {
            failure = context.Fail(ExitCodes.Failure, $"cannot read {name}: {e.Message}");
        }

        return false;
    }
}
