namespace Lasthope.Text.EditNeed;

/// <summary>
/// The features of a unit without an encoder: handcrafted counts of the unit and its place in the document, its
/// out-of-vocabulary rate against the vocabulary of the training documents' edited texts, and hashed word unigram and
/// bigram counts (lower-cased; FNV-1a into <see cref="HashBuckets"/> buckets, a stable hash so that a model's buckets
/// mean the same in every process). Thread-safe after construction.
/// </summary>
public sealed class EditNeedFeatures
{
    /// <summary>The handcrafted features, in order.</summary>
    public static readonly IReadOnlyList<string> HandcraftedNames =
    [
        "tokens", "chars", "mean_word_length", "max_word_length", "long_word_share", "punctuation_share", "capitalised_share", "digit_share",
        "oov_rate", "oov_count", "repeated_token_share", "space_before_punctuation", "double_spaces", "parentheses", "commas",
        "starts_lower", "ends_without_stop", "position", "units_in_document", "document_tokens", "share_of_document",
    ];

    private readonly HashSet<string> _vocabulary;

    /// <param name="vocabulary">Lower-cased word tokens of the training documents' edited texts.</param>
    /// <param name="hashBuckets">Buckets of hashed n-gram counts (0 for none).</param>
    public EditNeedFeatures(IEnumerable<string> vocabulary, int hashBuckets)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentOutOfRangeException.ThrowIfNegative(hashBuckets);
        _vocabulary = new HashSet<string>(vocabulary, StringComparer.Ordinal);
        HashBuckets = hashBuckets;
        Names = [.. HandcraftedNames, .. Enumerable.Range(0, hashBuckets).Select(b => $"ngram_{b}")];
    }

    /// <summary>The vocabulary's size.</summary>
    public int VocabularySize => _vocabulary.Count;

    /// <summary>The vocabulary, sorted (what a model stores).</summary>
    public IReadOnlyList<string> Vocabulary() => [.. _vocabulary.Order(StringComparer.Ordinal)];

    /// <summary>Hashed n-gram buckets.</summary>
    public int HashBuckets { get; }

    /// <summary>Every feature's name, in row order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The number of features per row.</summary>
    public int Count => Names.Count;

    /// <summary>The vocabulary of the edited texts of <paramref name="documents"/>: their lower-cased word tokens.</summary>
    public static HashSet<string> VocabularyOf(IEnumerable<EditNeedExample> units)
    {
        ArgumentNullException.ThrowIfNull(units);
        var words = new HashSet<string>(StringComparer.Ordinal);
        foreach (var unit in units)
        {
            foreach (var token in EditRate.Tokenize(unit.Edited))
            {
                if (IsWord(token))
                {
                    words.Add(token.ToLowerInvariant());
                }
            }
        }

        return words;
    }

    /// <summary>The share of a text's word tokens not in the vocabulary (0 for a text without words).</summary>
    public double OovRate(string text)
    {
        var (oov, words) = Oov(EditRate.Tokenize(text));
        return words == 0 ? 0 : oov / (double)words;
    }

    /// <summary>Writes the features of each unit of one document into <paramref name="rows"/> (units x <see cref="Count"/>, row-major).</summary>
    /// <param name="units">The units' texts, in document order.</param>
    /// <param name="rows">Where to write; its length must be units.Count * <see cref="Count"/>.</param>
    public void Fill(IReadOnlyList<string> units, Span<double> rows)
    {
        ArgumentNullException.ThrowIfNull(units);
        if (rows.Length != units.Count * Count)
        {
            throw new ArgumentException($"{units.Count} units need {units.Count * Count} values, got {rows.Length}.", nameof(rows));
        }

        rows.Clear();
        var tokens = units.Select(EditRate.Tokenize).ToArray();
        var documentTokens = tokens.Sum(t => t.Length);
        for (var u = 0; u < units.Count; u++)
        {
            var row = rows.Slice(u * Count, Count);
            var text = units[u];
            var t = tokens[u];
            var words = t.Where(IsWord).ToArray();
            var (oov, wordCount) = Oov(t);
            var k = 0;
            row[k++] = t.Length;
            row[k++] = text.Length;
            row[k++] = words.Length == 0 ? 0 : words.Average(w => w.Length);
            row[k++] = words.Length == 0 ? 0 : words.Max(w => w.Length);
            row[k++] = Share(words.Count(w => w.Length > 12), words.Length);
            row[k++] = Share(t.Length - words.Length, t.Length);
            row[k++] = Share(words.Count(w => char.IsUpper(w[0])), words.Length);
            row[k++] = Share(words.Count(w => w.Any(char.IsDigit)), words.Length);
            row[k++] = Share(oov, wordCount);
            row[k++] = oov;
            row[k++] = Share(t.Length - t.Distinct(StringComparer.OrdinalIgnoreCase).Count(), t.Length);
            row[k++] = CountWhere(text, static (s, i) => i > 0 && s[i] is ',' or '.' or ';' or ':' or ')' && char.IsWhiteSpace(s[i - 1]));
            row[k++] = CountWhere(text, static (s, i) => i > 0 && s[i] == ' ' && s[i - 1] == ' ');
            row[k++] = CountWhere(text, static (s, i) => s[i] is '(' or ')');
            row[k++] = CountWhere(text, static (s, i) => s[i] == ',');
            row[k++] = text.Length > 0 && char.IsLower(text[0]) ? 1 : 0;
            row[k++] = text.Length > 0 && text[^1] is not ('.' or '!' or '?' or '"' or ')') ? 1 : 0;
            row[k++] = units.Count == 1 ? 0 : u / (double)(units.Count - 1);
            row[k++] = units.Count;
            row[k++] = documentTokens;
            row[k++] = Share(t.Length, documentTokens);
            if (HashBuckets > 0)
            {
                var buckets = row[k..];
                string? previous = null;
                foreach (var w in words)
                {
                    var lower = w.ToLowerInvariant();
                    buckets[Bucket(lower, null)] += 1;
                    if (previous is not null)
                    {
                        buckets[Bucket(previous, lower)] += 1;
                    }

                    previous = lower;
                }
            }
        }
    }

    /// <summary>Whether a token is a word (starts with a letter or digit) rather than punctuation.</summary>
    internal static bool IsWord(string token) => token.Length > 0 && char.IsLetterOrDigit(token[0]);

    private (int Oov, int Words) Oov(string[] tokens)
    {
        var oov = 0;
        var words = 0;
        foreach (var token in tokens)
        {
            if (IsWord(token))
            {
                words++;
                if (!_vocabulary.Contains(token.ToLowerInvariant()))
                {
                    oov++;
                }
            }
        }

        return (oov, words);
    }

    private int Bucket(string first, string? second)
    {
        // FNV-1a, 32 bits (Fowler, Noll and Vo), over the UTF-16 code units; a bigram hashes "first second".
        var hash = 2166136261u;
        foreach (var c in first)
        {
            hash = (hash ^ c) * 16777619u;
        }

        if (second is not null)
        {
            hash = (hash ^ ' ') * 16777619u;
            foreach (var c in second)
            {
                hash = (hash ^ c) * 16777619u;
            }
        }

        return (int)(hash % (uint)HashBuckets);
    }

    private static double Share(int part, int whole) => whole == 0 ? 0 : part / (double)whole;

    private static int CountWhere(string text, Func<string, int, bool> at)
    {
        var n = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (at(text, i))
            {
                n++;
            }
        }

        return n;
    }
}
