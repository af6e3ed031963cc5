using System.Text.RegularExpressions;
using Quickenshtein;

namespace Lasthope.Text.EditNeed;

/// <summary>
/// The target of edit need: the word-level edit rate between a text and its edited version, the Levenshtein distance
/// (Levenshtein 1966, "Binary codes capable of correcting deletions, insertions and reversals") over tokens divided by
/// the original's token count. 0 means untouched; 1 means as many token edits as the original had tokens; it may
/// exceed 1 when the editor added more than the text held.
/// <para>
/// Tokens: maximal runs of letters, digits and underscores (with internal hyphens or apostrophes kept inside the word:
/// "state-of-the-art", "don't"), and every other non-space character alone (punctuation, symbols). Case is kept, so
/// "the" to "The" is one edit; whitespace is not a token, so re-spacing alone costs nothing.
/// </para>
/// <para>
/// The distance is computed by Quickenshtein on characters: each distinct token of the pair is mapped to its own
/// character, in order of first appearance, so that two tokens are equal exactly when their characters are. A pair
/// has far fewer than 65,536 distinct tokens (the inputs are bounded well below that); a pair with more is refused.
/// </para>
/// </summary>
public static partial class EditRate
{
    /// <summary>The most distinct tokens a pair may have: one UTF-16 code unit each.</summary>
    public const int MaxDistinctTokens = char.MaxValue + 1;

    /// <summary>The tokens of <paramref name="text"/>, in order (see the class remarks).</summary>
    public static string[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var matches = TokenPattern().Matches(text);
        var tokens = new string[matches.Count];
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = matches[i].Value;
        }

        return tokens;
    }

    /// <summary>The token-level Levenshtein distance between two token lists (insertions, deletions, substitutions, each 1).</summary>
    /// <exception cref="ArgumentException">The pair has more than <see cref="MaxDistinctTokens"/> distinct tokens.</exception>
    public static int Distance(IReadOnlyList<string> original, IReadOnlyList<string> edited)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(edited);
        var codes = new Dictionary<string, char>(StringComparer.Ordinal);
        var a = Encode(original, codes);
        var b = Encode(edited, codes);
        return Levenshtein.GetDistance(a, b, CalculationOptions.Default);
    }

    /// <summary>
    /// The word-level edit rate: <see cref="Distance"/> of the two texts' tokens divided by the original's token
    /// count; 0 for two empty texts and the edited text's token count for an empty original (each inserted token an edit).
    /// </summary>
    public static double Of(string original, string edited)
    {
        var a = Tokenize(original);
        var b = Tokenize(edited);
        var distance = Distance(a, b);
        return a.Length == 0 ? distance : distance / (double)a.Length;
    }

    private static string Encode(IReadOnlyList<string> tokens, Dictionary<string, char> codes)
    {
        var chars = new char[tokens.Count];
        for (var i = 0; i < chars.Length; i++)
        {
            if (!codes.TryGetValue(tokens[i], out var c))
            {
                if (codes.Count == MaxDistinctTokens)
                {
                    throw new ArgumentException($"The pair has more than {MaxDistinctTokens:N0} distinct tokens.", nameof(tokens));
                }

                c = (char)codes.Count;
                codes.Add(tokens[i], c);
            }

            chars[i] = c;
        }

        return new string(chars);
    }

    [GeneratedRegex(@"[\p{L}\p{N}_]+(?:['’\-][\p{L}\p{N}_]+)*|[^\s\p{L}\p{N}_]", RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();
}
