namespace Lasthope.Text.Barometer;

/// <summary>
/// Which of a sentiment model's classes count as positive (+1), negative (-1) and neutral (0). Names compare
/// case-insensitively (ordinal), after trimming. Every class of a model must be named in one of the three sets: a class
/// the mapping does not know (a "mixed" or "irrelevant" class, say) is refused rather than silently counted as neutral.
/// </summary>
public sealed class PolarityMapping
{
    private readonly HashSet<string> _positive, _negative, _neutral;

    /// <param name="positive">The classes that count +1.</param>
    /// <param name="negative">The classes that count -1.</param>
    /// <param name="neutral">The classes that count 0.</param>
    /// <exception cref="ArgumentException">A set is empty where it must not be (positive, negative), or a name is in two sets.</exception>
    public PolarityMapping(IEnumerable<string> positive, IEnumerable<string> negative, IEnumerable<string> neutral)
    {
        ArgumentNullException.ThrowIfNull(positive);
        ArgumentNullException.ThrowIfNull(negative);
        ArgumentNullException.ThrowIfNull(neutral);
        _positive = Set(positive);
        _negative = Set(negative);
        _neutral = Set(neutral);
        if (_positive.Count == 0 || _negative.Count == 0)
        {
            throw new ArgumentException("A polarity mapping needs at least one positive and one negative class.", nameof(positive));
        }

        var twice = _positive.Intersect(_negative, StringComparer.OrdinalIgnoreCase)
            .Concat(_positive.Intersect(_neutral, StringComparer.OrdinalIgnoreCase))
            .Concat(_negative.Intersect(_neutral, StringComparer.OrdinalIgnoreCase))
            .ToArray();
        if (twice.Length > 0)
        {
            throw new ArgumentException($"A class cannot have two polarities: {string.Join(", ", twice)}.", nameof(positive));
        }
    }

    /// <summary>bullish and positive are +1, bearish and negative -1, neutral 0: the classes of ../shared/data/sentiment and the usual three.</summary>
    public static PolarityMapping Default { get; } = new(["bullish", "positive"], ["bearish", "negative"], ["neutral"]);

    /// <summary>The positive classes, in no particular order.</summary>
    public IReadOnlyCollection<string> Positive => _positive;

    /// <summary>The negative classes, in no particular order.</summary>
    public IReadOnlyCollection<string> Negative => _negative;

    /// <summary>The neutral classes, in no particular order.</summary>
    public IReadOnlyCollection<string> Neutral => _neutral;

    /// <summary>+1, -1 or 0 for <paramref name="label"/>, or null when the mapping does not know it.</summary>
    public int? PolarityOf(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        var name = label.Trim();
        return _positive.Contains(name) ? 1 : _negative.Contains(name) ? -1 : _neutral.Contains(name) ? 0 : null;
    }

    /// <summary>
    /// The polarity of each of a model's classes, by class index. Throws <see cref="ArgumentException"/> naming the
    /// classes the mapping does not know, or when no class is positive or none is negative (a barometer of a model that
    /// cannot say one side would be one-sided by construction).
    /// </summary>
    public int[] Resolve(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var polarity = new int[classNames.Count];
        var unknown = new List<string>();
        for (var c = 0; c < polarity.Length; c++)
        {
            if (PolarityOf(classNames[c]) is { } p)
            {
                polarity[c] = p;
            }
            else
            {
                unknown.Add(classNames[c]);
            }
        }

        if (unknown.Count > 0)
        {
            throw new ArgumentException($"The polarity mapping does not know the classes {string.Join(", ", unknown.Select(u => $"'{u}'"))} (positive: {string.Join(", ", _positive.Order(StringComparer.Ordinal))}; negative: {string.Join(", ", _negative.Order(StringComparer.Ordinal))}; neutral: {string.Join(", ", _neutral.Order(StringComparer.Ordinal))}).", nameof(classNames));
        }

        if (!polarity.Contains(1) || !polarity.Contains(-1))
        {
            throw new ArgumentException($"The classes {string.Join(", ", classNames)} need at least one positive and one negative class.", nameof(classNames));
        }

        return polarity;
    }

    /// <summary>"positive: a, b; negative: c; neutral: d", for reports.</summary>
    public override string ToString() =>
        $"positive: {string.Join(", ", _positive.Order(StringComparer.Ordinal))}; negative: {string.Join(", ", _negative.Order(StringComparer.Ordinal))}; neutral: {string.Join(", ", _neutral.Order(StringComparer.Ordinal))}";

    private static HashSet<string> Set(IEnumerable<string> names)
    {
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in names)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            set.Add(name.Trim());
        }

        return set;
    }
}
