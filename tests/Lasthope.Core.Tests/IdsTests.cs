using CsCheck;
using Lasthope.Core.Identifiers;

namespace Lasthope.Core.Tests;

public sealed class IdsTests
{
    [Theory]
    [InlineData("item-1")]
    [InlineData("café")]
    [InlineData("日本語")]
    [InlineData("😀")]
    [InlineData("a b")]
    [InlineData("\u202e")]
    public void PrintableUnicode_IsAnId(string id) => Assert.True(Ids.IsValid(id), Ids.Problem(id));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("a\u0000b", "control character (U+0000)")]
    [InlineData("a\u001fb", "control character (U+001F)")]
    [InlineData("a\nb", "control character (U+000A)")]
    [InlineData("a\u0085b", "control character (U+0085)")]
    [InlineData("a\u2028b", "control character (U+2028)")]
    public void ControlsSeparatorsAndBrokenSurrogates_AreNot_AndTheProblemSaysWhy(string id, string why)
        => Assert.Contains(why, Ids.Problem(id), StringComparison.Ordinal);

    [Fact]
    public void UnpairedSurrogates_AreNot()
    {
        // Built in code: an attribute's string cannot hold an unpaired surrogate (metadata is UTF-8).
        Assert.Contains("unpaired surrogate (U+D800)", Ids.Problem(new string((char)0xD800, 1)), StringComparison.Ordinal);
        Assert.Contains("unpaired surrogate (U+DC00)", Ids.Problem("x" + (char)0xDC00), StringComparison.Ordinal);
        Assert.Contains("unpaired surrogate (U+D83D)", Ids.Problem("\ud83d" + "a"), StringComparison.Ordinal);
        Assert.Null(Ids.Problem("\ud83d\ude00"));
    }

    [Fact]
    public void Length_IsBounded()
    {
        Assert.True(Ids.IsValid(new string('a', Ids.MaxLength)));
        Assert.Contains("limit is 256", Ids.Problem(new string('a', Ids.MaxLength + 1)), StringComparison.Ordinal);
        Assert.True(Ids.IsValid(new string('a', 300), maxLength: 300));
    }

    [Fact]
    public void Printable_EscapesWhatIsNotPrintable_AndIsShort()
    {
        Assert.Equal("a\\u0000b\\u2028", Ids.Printable("a\u0000b\u2028"));
        Assert.Equal(new string('x', 64) + "...", Ids.Printable(new string('x', 100)));
        Gen.String.Sample(s => Ids.Printable(s).All(c => !char.IsControl(c) && !char.IsSurrogate(c)));
    }

    [Fact]
    public void Problem_NeverThrows_AndAgreesWithIsValid()
        => Gen.String.Sample(s => (Ids.Problem(s) is null) == Ids.IsValid(s));
}
