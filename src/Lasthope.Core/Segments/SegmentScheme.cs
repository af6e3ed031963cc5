using System.Buffers;
using System.ComponentModel.DataAnnotations;
using Lasthope.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Lasthope.Core.Segments;

/// <summary>
/// Maps a user to a segment. By default there are 10 segments: 5 age bands x 2 genders, named like
/// <c>f:25-34</c> or <c>m:55+</c>. A segment is derived from age and gender, or given explicitly; anything else is
/// <see cref="Unknown"/>. Explicit segments outside the age x gender grid (for example one imported from a user
/// feature column) are accepted when they are well-formed, up to <see cref="SegmentOptions.MaxSegments"/> distinct
/// names, so that memory stays bounded.
/// </summary>
public sealed class SegmentScheme
{
    /// <summary>The segment of a user about whom nothing usable is known.</summary>
    public const string Unknown = "unknown";

    private static readonly SearchValues<char> NameChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.+=");

    private readonly int[] _ageLowerBounds;
    private readonly string[] _genders;
    private readonly string[] _gridNames;
    private readonly HashSet<string> _known;
    private readonly Lock _gate = new();
    private readonly int _maxSegments;

    public SegmentScheme(SegmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SegmentOptionsValidator.ThrowIfInvalid(options);
        _ageLowerBounds = [.. options.AgeBands];
        _genders = [.. options.Genders.Select(NormalizeGender)];
        _maxSegments = options.MaxSegments;
        _gridNames = new string[_ageLowerBounds.Length * _genders.Length];
        for (var g = 0; g < _genders.Length; g++)
        {
            for (var a = 0; a < _ageLowerBounds.Length; a++)
            {
                _gridNames[(g * _ageLowerBounds.Length) + a] = $"{_genders[g]}:{BandLabel(a)}";
            }
        }

        _known = new HashSet<string>(_gridNames, StringComparer.Ordinal) { Unknown };
        foreach (var extra in options.Extra)
        {
            _known.Add(extra);
        }
    }

    /// <summary>The default scheme: 5 age bands (under 25, 25-34, 35-44, 45-54, 55+) x 2 genders (f, m).</summary>
    public static SegmentScheme Default { get; } = new(new SegmentOptions());

    /// <summary>The age x gender segments in a stable order (genders outer, age bands inner).</summary>
    public IReadOnlyList<string> GridSegments => _gridNames;

    /// <summary>Every segment name known so far, including <see cref="Unknown"/> and accepted explicit ones.</summary>
    public IReadOnlyList<string> KnownSegments
    {
        get
        {
            lock (_gate)
            {
                return [.. _known.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>
    /// Resolves a user's segment: an explicit segment wins when it is acceptable; else age and gender when both are
    /// present and valid; else <see cref="Unknown"/>.
    /// </summary>
    public string Resolve(int? age, string? gender, string? explicitSegment)
    {
        if (!string.IsNullOrEmpty(explicitSegment) && TryAccept(explicitSegment, out var accepted))
        {
            return accepted;
        }

        if (age is { } a && a is >= 0 and < 150 && gender is not null)
        {
            var g = Array.IndexOf(_genders, NormalizeGender(gender));
            if (g >= 0)
            {
                return _gridNames[(g * _ageLowerBounds.Length) + Band(a)];
            }
        }

        return Unknown;
    }

    /// <summary>
    /// Accepts an explicit segment name if it is already known, or if it is well-formed (1 to 64 characters of
    /// letters, digits and <c>_-:.+=</c>) and the number of distinct segments is still below the limit.
    /// </summary>
    public bool TryAccept(string name, out string segment)
    {
        segment = Unknown;
        if (string.IsNullOrEmpty(name) || name.Length > 64 || name.AsSpan().ContainsAnyExcept(NameChars))
        {
            return false;
        }

        lock (_gate)
        {
            if (_known.TryGetValue(name, out var existing))
            {
                segment = existing;
                return true;
            }

            if (_known.Count >= _maxSegments)
            {
                return false;
            }

            _known.Add(name);
            segment = name;
            return true;
        }
    }

    private int Band(int age)
    {
        var band = 0;
        for (var i = 1; i < _ageLowerBounds.Length; i++)
        {
            if (age >= _ageLowerBounds[i])
            {
                band = i;
            }
        }

        return band;
    }

    private string BandLabel(int band)
    {
        if (band == 0)
        {
            return $"0-{(_ageLowerBounds.Length > 1 ? _ageLowerBounds[1] - 1 : 149)}";
        }

        return band == _ageLowerBounds.Length - 1
            ? $"{_ageLowerBounds[band]}+"
            : $"{_ageLowerBounds[band]}-{_ageLowerBounds[band + 1] - 1}";
    }

    internal static string NormalizeGender(string gender) => gender.Trim().ToLowerInvariant() switch
    {
        "female" or "woman" or "w" => "f",
        "male" or "man" => "m",
        var other => other,
    };
}

/// <summary>Configuration of <see cref="SegmentScheme"/> (section <c>Lasthope:Segments</c>).</summary>
public sealed class SegmentOptions : IValidatableObject
{
    /// <summary>Lower bounds of the age bands, ascending, the first being 0. Default: 0, 25, 35, 45, 55.</summary>
    public IList<int> AgeBands { get; init; } = [0, 25, 35, 45, 55];

    /// <summary>Gender codes (case-insensitive). "female"/"male" are read as f/m. Default: f, m.</summary>
    public IList<string> Genders { get; init; } = ["f", "m"];

    /// <summary>Additional explicit segment names known from the start.</summary>
    public IList<string> Extra { get; init; } = [];

    /// <summary>Upper limit on distinct segments (grid, extra and accepted explicit ones). Default 100.</summary>
    public int MaxSegments { get; init; } = 100;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AgeBands.Count == 0 || AgeBands[0] != 0)
        {
            yield return new ValidationResult("Segments:AgeBands must start at 0.", [nameof(AgeBands)]);
            yield break;
        }

        for (var i = 1; i < AgeBands.Count; i++)
        {
            if (AgeBands[i] <= AgeBands[i - 1])
            {
                yield return new ValidationResult("Segments:AgeBands must be strictly ascending.", [nameof(AgeBands)]);
                yield break;
            }
        }

        if (Genders.Count == 0 || Genders.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult("Segments:Genders must list at least one non-empty code.", [nameof(Genders)]);
            yield break;
        }

        // "female" and "f" are one gender once read; listing both would leave a grid segment nobody resolves to.
        if (Genders.Select(SegmentScheme.NormalizeGender).Distinct(StringComparer.Ordinal).Count() != Genders.Count)
        {
            yield return new ValidationResult("Segments:Genders must not name a gender twice (female/f, male/m are the same).", [nameof(Genders)]);
            yield break;
        }

        if (MaxSegments < (AgeBands.Count * Genders.Count) + 1)
        {
            yield return new ValidationResult("Segments:MaxSegments must cover the age x gender grid plus 'unknown'.", [nameof(MaxSegments)]);
            yield break;
        }
    }
}

/// <summary>The validation of <see cref="SegmentOptions"/>, generated at compile time.</summary>
[OptionsValidator]
public sealed partial class SegmentOptionsValidator : IValidateOptions<SegmentOptions>
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the offending setting.</summary>
    public static void ThrowIfInvalid(SegmentOptions options) => new SegmentOptionsValidator().Validate(null, options).ThrowIfFailed();
}
