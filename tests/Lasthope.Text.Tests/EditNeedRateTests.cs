using CsCheck;
using Lasthope.Text.EditNeed;

namespace Lasthope.Text.Tests;

/// <summary>The target: tokens, the token-level Levenshtein distance through Quickenshtein against a plain DP, the rate.</summary>
public sealed class EditNeedRateTests
{
    [Fact]
    public void Tokenize_KeepsWordsWithInnerHyphensAndApostrophes_AndEachPunctuationMark()
    {
        Assert.Equal(["In", "this", "paper", ",", "we", "don't", "use", "state-of-the-art", "(", "SOTA", ")", "models", "."],
            EditRate.Tokenize("In this paper , we don't use state-of-the-art (SOTA) models."));
        Assert.Empty(EditRate.Tokenize(" \n\t"));
    }

    [Fact]
    public void Of_CountsTokenEditsOverTheOriginalsTokens()
    {
        // In(delete) this->This paper ,(delete) we(delete) present->presents: 5 edits of 6 tokens.
        Assert.Equal(5 / 6.0, EditRate.Of("In this paper , we present", "This paper presents"), 12);
        Assert.Equal(0, EditRate.Of("Same  text,\nre-spaced.", "Same text , re-spaced ."));
        Assert.Equal(1 / 3.0, EditRate.Of("the big dog", "The big dog"), 12);
        Assert.Equal(2, EditRate.Of("", "two words"));
        Assert.Equal(2.0, EditRate.Of("a b", "c d e f"), 12);
    }

    [Fact]
    public void Distance_EqualsTheTextbookDynamicProgramme_OnSmallTokenLists()
    {
        string[] alphabet = ["a", "b", "c", "the", "The", ",", "."];
        var token = Gen.Int[0, alphabet.Length - 1].Select(i => alphabet[i]);
        Gen.Select(token.Array[0, 12], token.Array[0, 12]).Sample((a, b) =>
        {
            var d = EditRate.Distance(a, b);
            return d == Reference(a, b) && d == EditRate.Distance(b, a) && d <= Math.Max(a.Length, b.Length) && d >= Math.Abs(a.Length - b.Length);
        });
    }

    [Fact]
    public void Distance_HandlesManyDistinctTokens()
    {
        var a = Enumerable.Range(0, 3000).Select(i => $"w{i}").ToArray();
        var b = a.Select((w, i) => i % 10 == 0 ? w + "x" : w).ToArray();

        Assert.Equal(300, EditRate.Distance(a, b));
    }

    /// <summary>Levenshtein (1966) by the Wagner-Fischer table: d[i][j] = min(d[i-1][j] + 1, d[i][j-1] + 1, d[i-1][j-1] + [a_i != b_j]).</summary>
    private static int Reference(string[] a, string[] b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }
}
