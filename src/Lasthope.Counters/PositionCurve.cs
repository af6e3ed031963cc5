using System.Globalization;

namespace Lasthope.Counters;

/// <summary>
/// The examination probability of each position relative to position 1 (so <c>this[1] == 1</c>): the chance that a
/// user looks at an item shown there, as in the position-based click model (Richardson et al. 2007; Chuklin, Markov
/// and de Rijke, "Click Models for Web Search", 2015, ch. 3). Positions past the last known one share its value.
/// </summary>
public sealed class PositionCurve
{
    private readonly double[] _values; // _values[0] is position 1

    public PositionCurve(IReadOnlyList<double> relativeExamination)
    {
        ArgumentNullException.ThrowIfNull(relativeExamination);
        if (relativeExamination.Count == 0)
        {
            throw new ArgumentException("A position curve needs at least position 1.", nameof(relativeExamination));
        }

        _values = new double[relativeExamination.Count];
        for (var i = 0; i < _values.Length; i++)
        {
            var v = relativeExamination[i];
            if (!double.IsFinite(v) || v <= 0)
            {
                throw new ArgumentException($"Position {i + 1} has examination {v}; it must be positive and finite.", nameof(relativeExamination));
            }

            _values[i] = v / relativeExamination[0];
        }
    }

    /// <summary>No position bias: every position is examined like position 1.</summary>
    public static PositionCurve Flat { get; } = new([1.0]);

    /// <summary>Number of positions with their own value.</summary>
    public int Count => _values.Length;

    /// <summary>Relative examination of 1-based <paramref name="position"/>; 1 for a non-positive position.</summary>
    public double this[int position] => position < 1 ? 1.0 : _values[Math.Min(position, _values.Length) - 1];

    /// <summary>A compact text form, "1;0.62;0.48", for persisting the curve as a store setting.</summary>
    public string Serialize() => string.Join(';', _values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>Parses <see cref="Serialize"/>'s form; throws <see cref="FormatException"/> naming the bad entry.</summary>
    public static PositionCurve Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new FormatException($"Position curve entry {i + 1} ('{parts[i]}') is not a number.");
            }
        }

        return new PositionCurve(values);
    }

    public override string ToString() => string.Join(", ", _values.Take(10).Select((v, i) => $"{i + 1}:{v:F3}"));
}
