namespace Lasthope.Text.EditNeed;

/// <summary>What edit need scores: a whole paragraph, or each sentence.</summary>
public enum EditNeedLevel
{
    /// <summary>Each paragraph: a run of text between line breaks.</summary>
    Paragraph,

    /// <summary>Each sentence of each paragraph.</summary>
    Sentence,
}

/// <summary>A part of a document: where it starts and how long it is, in UTF-16 code units, and its paragraph.</summary>
public readonly record struct UnitSpan(int Start, int Length, int Paragraph)
{
    /// <summary>The first position after the span.</summary>
    public int End => Start + Length;
}

/// <summary>
/// Splits a document into the units edit need scores, the same way when training and when serving.
/// <para>
/// Paragraphs: a paragraph is a maximal run of non-blank lines' text; every line break ends one (the IteraTeR documents
/// have none, so each of its documents is one paragraph). Sentences: a paragraph breaks after '.', '!' or '?' (and any
/// closing quotes or brackets after it) followed by whitespace and then an upper-case letter, a digit, or an opening
/// quote or bracket; not after a single letter (an initial, "J. Smith") or a common abbreviation ("e.g.", "et al.",
/// "Fig.", "Dr."). Spans cover the text without gaps between a unit's first character and the next unit's: the
/// whitespace after a sentence belongs to it, and a unit's text is its span trimmed.
/// </para>
/// </summary>
public static class EditNeedText
{
    private static readonly HashSet<string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        "e.g", "i.e", "al", "etc", "fig", "figs", "eq", "eqs", "sec", "ref", "refs", "no", "vs", "cf", "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr",
        "inc", "ltd", "co", "corp", "approx", "resp", "vol", "pp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
    };

    /// <summary>The start of each unit of <paramref name="text"/> (ascending; empty when the text is blank).</summary>
    public static List<UnitSpan> Units(string text, EditNeedLevel level)
    {
        ArgumentNullException.ThrowIfNull(text);
        var units = new List<UnitSpan>();
        var paragraph = 0;
        foreach (var (start, end) in Paragraphs(text))
        {
            if (level == EditNeedLevel.Paragraph)
            {
                units.Add(new UnitSpan(start, end - start, paragraph++));
                continue;
            }

            var from = start;
            foreach (var boundary in SentenceBreaks(text, start, end))
            {
                units.Add(new UnitSpan(from, boundary - from, paragraph));
                from = boundary;
            }

            units.Add(new UnitSpan(from, end - from, paragraph++));
        }

        return units;
    }

    /// <summary>Paragraphs as [start, end): from the first non-space character of a line run to the end of its last line.</summary>
    private static List<(int Start, int End)> Paragraphs(string text)
    {
        var result = new List<(int, int)>();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i == text.Length)
            {
                break;
            }

            var start = i;
            while (i < text.Length && text[i] is not ('\n' or '\r'))
            {
                i++;
            }

            result.Add((start, i));
        }

        return result;
    }

    /// <summary>The starts of the second and later sentences in [start, end).</summary>
    private static IEnumerable<int> SentenceBreaks(string text, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            if (text[i] is not ('.' or '!' or '?'))
            {
                continue;
            }

            var j = i + 1;
            while (j < end && text[j] is '.' or '!' or '?' or '"' or '\'' or ')' or ']' or '’' or '”')
            {
                j++;
            }

            var k = j;
            while (k < end && char.IsWhiteSpace(text[k]))
            {
                k++;
            }

            if (k == j || k >= end)
            {
                i = j - 1;
                continue;
            }

            var next = text[k];
            var opens = char.IsUpper(next) || char.IsDigit(next) || next is '"' or '\'' or '(' or '[' or '“' or '‘';
            if (opens && (text[i] != '.' || !IsAbbreviation(text, start, i)))
            {
                yield return k;
            }

            i = k - 1;
        }
    }

    /// <summary>Whether the word before the period at <paramref name="dot"/> is an initial or a known abbreviation.</summary>
    private static bool IsAbbreviation(string text, int start, int dot)
    {
        var w = dot;
        while (w > start && (char.IsLetter(text[w - 1]) || text[w - 1] == '.'))
        {
            w--;
        }

        var word = text.AsSpan(w, dot - w);
        if (word.Length == 0)
        {
            return false;
        }

        return (word.Length == 1 && char.IsUpper(word[0])) || Abbreviations.GetAlternateLookup<ReadOnlySpan<char>>().Contains(word);
    }
}
