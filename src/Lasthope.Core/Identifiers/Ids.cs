using System.Globalization;

namespace Lasthope.Core.Identifiers;

/// <summary>
/// What an identifier (item, user, request, event, surface, experiment arm...) may be: 1 to <see cref="MaxLength"/>
/// UTF-16 code units of valid Unicode with no control characters (category Cc, which includes NUL, tab, newline and
/// the ASCII separators) and no line or paragraph separators (U+2028, U+2029). Ids end up in logs, metric labels,
/// CSV files and terminals, where such characters forge lines or break formats. The stores' encodings do not rely on
/// this rule: they round-trip any string.
/// </summary>
public static class Ids
{
    /// <summary>The longest id accepted, in UTF-16 code units.</summary>
    public const int MaxLength = 256;

    /// <summary>Why <paramref name="value"/> is not an acceptable id, or null when it is.</summary>
    public static string? Problem(string? value, int maxLength = MaxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "must not be empty";
        }

        if (value.Length > maxLength)
        {
            return $"is {value.Length} characters long; the limit is {maxLength}";
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                return $"holds an unpaired surrogate (U+{(int)c:X4}) at index {i}: not valid Unicode";
            }

            var category = char.GetUnicodeCategory(c);
            if (category is UnicodeCategory.Control or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return $"holds a control character (U+{(int)c:X4}) at index {i}";
            }
        }

        return null;
    }

    /// <summary>A client's text as it may appear in a message or a log: at most 64 characters, control characters and surrogates escaped.</summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cut = text.Length > 64 ? text[..64] + "..." : text;
        return string.Concat(cut.Select(c => char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    /// <summary>True when <paramref name="value"/> is an acceptable id.</summary>
    public static bool IsValid(string? value, int maxLength = MaxLength) => Problem(value, maxLength) is null;
}
