using System.Globalization;

namespace Lasthope.Trees.Loading;

/// <summary>Parses the space-separated number lists of model files, strictly: a malformed or missing number is an error.</summary>
internal static class Numbers
{
    public static double ParseDouble(ReadOnlySpan<char> token, string context)
    {
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        // C++ streams and fmt write infinities and NaN in these spellings; .NET does not read them by default.
        return token switch
        {
            "inf" or "+inf" or "Inf" or "infinity" => double.PositiveInfinity,
            "-inf" or "-Inf" or "-infinity" => double.NegativeInfinity,
            "nan" or "-nan" or "NaN" => double.NaN,
            _ => throw ModelLoadException.Corrupt($"{context}: '{token}' is not a number."),
        };
    }

    public static int ParseInt(ReadOnlySpan<char> token, string context)
    {
        if (int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        throw ModelLoadException.Corrupt($"{context}: '{token}' is not an integer.");
    }

    public static double[] ParseDoubles(ReadOnlySpan<char> text, int expected, string context)
    {
        // A value takes at least one character and a separator: a count the text cannot hold is refused before
        // anything that size is allocated (a 500-byte file must not claim 100,000,000 leaves and get them).
        if (expected < 0 || expected > (text.Length + 1) / 2)
        {
            throw ModelLoadException.Corrupt($"{context}: expected {expected} values in {text.Length} characters.");
        }

        var result = new double[expected];
        var count = 0;
        foreach (var range in text.Split(' '))
        {
            var token = text[range];
            if (token.IsEmpty)
            {
                continue;
            }

            if (count == expected)
            {
                throw ModelLoadException.Corrupt($"{context}: more than {expected} values.");
            }

            result[count++] = ParseDouble(token, context);
        }

        if (count != expected)
        {
            throw ModelLoadException.Corrupt($"{context}: {count} values, expected {expected}.");
        }

        return result;
    }

    public static int[] ParseInts(ReadOnlySpan<char> text, int expected, string context)
    {
        // A value takes at least one character and a separator: a count the text cannot hold is refused before
        // anything that size is allocated (a 500-byte file must not claim 100,000,000 leaves and get them).
        if (expected < 0 || expected > (text.Length + 1) / 2)
        {
            throw ModelLoadException.Corrupt($"{context}: expected {expected} values in {text.Length} characters.");
        }

        var result = new int[expected];
        var count = 0;
        foreach (var range in text.Split(' '))
        {
            var token = text[range];
            if (token.IsEmpty)
            {
                continue;
            }

            if (count == expected)
            {
                throw ModelLoadException.Corrupt($"{context}: more than {expected} values.");
            }

            result[count++] = ParseInt(token, context);
        }

        if (count != expected)
        {
            throw ModelLoadException.Corrupt($"{context}: {count} values, expected {expected}.");
        }

        return result;
    }

    /// <summary>Counts the tokens of a space-separated list.</summary>
    public static int CountTokens(ReadOnlySpan<char> text)
    {
        var count = 0;
        foreach (var range in text.Split(' '))
        {
            if (!text[range].IsEmpty)
            {
                count++;
            }
        }

        return count;
    }
}
