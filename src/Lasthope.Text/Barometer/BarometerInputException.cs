namespace Lasthope.Text.Barometer;

/// <summary>
/// The barometer's input cannot be used: a bad date, a missing column, a ragged row, or more rows or periods than the
/// bounds allow. <see cref="Line"/> and <see cref="Column"/> say where when the problem has a place; the message names
/// both, so a command can print it as it is.
/// </summary>
public sealed class BarometerInputException : Exception
{
    public BarometerInputException()
    {
    }

    public BarometerInputException(string message)
        : base(message)
    {
    }

    public BarometerInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A problem at <paramref name="line"/> (1-based, of the file; the header is line 1) and, if known, in <paramref name="column"/>.</summary>
    public BarometerInputException(string message, int line, string? column)
        : base(message)
    {
        Line = line;
        Column = column;
    }

    /// <summary>The 1-based line of the file where the bad row starts, or null when the problem is not one row's.</summary>
    public int? Line { get; }

    /// <summary>The column's name, or null when the problem is not one column's.</summary>
    public string? Column { get; }
}
