using System.CommandLine;
using Lasthope.Server.Ingestion;

namespace Lasthope.Cli.Commands;

/// <summary>How a historical log file is read: the options <c>import</c> and <c>replay</c> share.</summary>
internal sealed class LogFileOptions
{
    public Option<string> Format { get; } = new("--format") { Description = "jsonl, csv, or auto (by extension).", DefaultValueFactory = _ => "auto" };

    public Option<string?> Map { get; } = new("--map") { Description = "CSV column mapping: item=COL,position=COL,click=COL,time=COL,segment=COL,user=COL,age=COL,gender=COL,request=COL,propensity=COL,surface=NAME." };

    public Option<string?> Preset { get; } = new("--preset") { Description = "A known CSV layout instead of --map: open-bandit." };

    public LogFileOptions()
    {
        Format.AcceptOnlyFromAmong("auto", "jsonl", "csv");
        Preset.AcceptOnlyFromAmong("open-bandit");
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Format);
        command.Options.Add(Map);
        command.Options.Add(Preset);
    }

    /// <summary>The CSV mapping for <paramref name="input"/> (null for JSONL), or the message that says what is wrong.</summary>
    public bool TryResolve(ParseResult parse, FileInfo input, out CsvMapping? mapping, out string? error)
    {
        (mapping, error) = (null, null);
        var kind = parse.GetValue(Format) is "auto" ? (input.Extension.Equals(".csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "jsonl") : parse.GetValue(Format)!;
        if (kind != "csv")
        {
            return true;
        }

        if (parse.GetValue(Preset) is "open-bandit")
        {
            mapping = CsvMapping.OpenBandit;
            return true;
        }

        if (parse.GetValue(Map) is not { } spec)
        {
            error = "a CSV log needs --map item=COLUMN,... or --preset open-bandit";
            return false;
        }

        try
        {
            mapping = CsvMapping.Parse(spec);
            return true;
        }
        catch (FormatException e)
        {
            error = $"--map: {e.Message}";
            return false;
        }
    }

    /// <summary>Imports the file with <paramref name="importer"/>, reporting bytes read to <paramref name="progress"/>.</summary>
    public static async Task<ImportReport> ImportAsync(LogImporter importer, FileInfo input, CsvMapping? mapping, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await using var stream = input.OpenRead();
        return mapping is null
            ? await importer.ImportJsonLinesAsync(stream, progress, cancellationToken)
            : await importer.ImportCsvAsync(stream, mapping, Path.GetFileNameWithoutExtension(input.Name), progress, cancellationToken);
    }
}
