using System.Globalization;

namespace Lasthope.Cli.Reliability;

/// <summary>One row of a drill's table: a bar (the measured value beside what it had to be), or a figure shown for information.</summary>
public sealed record Check(string Name, string Value, string Bar, bool Passed, bool IsBar = true);

/// <summary>
/// What one drill measured. <see cref="Figures"/> holds the numbers under stable names (the JSON report and the tests
/// read them); <see cref="Checks"/> are the bars; <see cref="Notes"/> say what went wrong, request by request.
/// </summary>
public sealed class DrillResult(string drill)
{
    /// <summary>Notes kept per drill, so that a drill with thousands of failures still prints a short report.</summary>
    public const int MaxNotes = 25;

    private int _droppedNotes;

    public string Drill { get; } = drill;

    public double Seconds { get; set; }

    /// <summary>Why the drill could not run to its end (its bars then fail), or null.</summary>
    public string? Error { get; set; }

    public SortedDictionary<string, double> Figures { get; } = new(StringComparer.Ordinal);

    public List<Check> Checks { get; } = [];

    public List<string> Notes { get; } = [];

    public bool Passed => Error is null && Checks.Any(c => c.IsBar) && Checks.All(c => c.Passed);

    public double this[string figure]
    {
        get => Figures.GetValueOrDefault(figure);
        set => Figures[figure] = value;
    }

    /// <summary>A bar of the form value &lt;= max (or == max when max is 0).</summary>
    public void AtMost(string name, double value, double max, string? unit = null)
        => Checks.Add(new Check(name, Format(value, unit), max == 0 ? $"= 0{unit}" : $"<= {Format(max, unit)}", value <= max));

    /// <summary>A bar of the form value &gt;= min.</summary>
    public void AtLeast(string name, double value, double min, string? unit = null)
        => Checks.Add(new Check(name, Format(value, unit), $">= {Format(min, unit)}", value >= min));

    public void Expect(string name, bool passed, string value, string bar) => Checks.Add(new Check(name, value, bar, passed));

    /// <summary>A figure shown in the table without a bar.</summary>
    public void Info(string name, string value) => Checks.Add(new Check(name, value, string.Empty, true, IsBar: false));

    /// <summary>Megabytes, for memory figures.</summary>
    public static double Megabytes(long? bytes) => bytes is { } b ? Math.Round(b / (1024.0 * 1024.0), 1) : double.NaN;

    public void Note(string note)
    {
        lock (Notes)
        {
            if (Notes.Count < MaxNotes)
            {
                Notes.Add(note);
            }
            else
            {
                _droppedNotes++;
            }
        }
    }

    /// <summary>Closes the notes with the count of those left out.</summary>
    public void FinishNotes()
    {
        if (_droppedNotes > 0)
        {
            Notes.Add($"... and {_droppedNotes} more");
            _droppedNotes = 0;
        }
    }

    private static string Format(double value, string? unit)
        => (value == Math.Floor(value) && Math.Abs(value) < 1e15
            ? value.ToString("N0", CultureInfo.InvariantCulture)
            : value.ToString("0.###", CultureInfo.InvariantCulture)) + unit;
}

/// <summary>The whole run.</summary>
public sealed record ReliabilityReport(
    int Seed,
    bool Quick,
    DateTimeOffset StartedAt,
    double Seconds,
    string Executable,
    IReadOnlyList<DrillResult> Drills)
{
    public bool Passed => Drills.Count > 0 && Drills.All(d => d.Passed);
}
