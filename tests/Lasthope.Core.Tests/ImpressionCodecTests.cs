using CsCheck;
using Lasthope.Core.Serialization;
using Lasthope.Core.Storage;

namespace Lasthope.Core.Tests;

/// <summary>The stored form of a ranking's impressions: exact for any well-formed text, an error for anything damaged.</summary>
public sealed class ImpressionCodecTests
{
    private static readonly Gen<string> WellFormed = Gen.String.Where(s => !s.Any(char.IsSurrogate) || System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(s)) == s);

    [Fact]
    public void AnyListOfIdsAndPositions_RoundTrips()
        => Gen.Select(WellFormed, Gen.Int[0, int.MaxValue]).Select((id, p) => new Impression(id, p)).Array[0, 30]
            .Sample(list => ImpressionCodec.Decode(ImpressionCodec.Encode(list)).SequenceEqual(list));

    [Fact]
    public void AnEmptyList_IsAList()
    {
        var bytes = ImpressionCodec.Encode([]);
        Assert.Equal([ImpressionCodec.Version, 0], bytes);
        Assert.Empty(ImpressionCodec.Decode(bytes));
    }

    [Fact]
    public void TheOldSeparators_AreJustCharacters()
    {
        Impression[] list = [new("a\u001fb", 1), new("1\u001e2", 3), new("", 2)];
        Assert.Equal(list, ImpressionCodec.Decode(ImpressionCodec.Encode(list)));
    }

    [Fact]
    public void EveryTruncation_IsAFormatError_NeverAWrongList()
    {
        var bytes = ImpressionCodec.Encode([new("item-1", 1), new("日本", 2), new("x", 300)]);
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            Assert.Throws<FormatException>(() => ImpressionCodec.Decode(bytes.AsSpan(0, cut)));
        }
    }

    [Fact]
    public void ArbitraryBytes_DecodeOrFailWithAFormatError()
        => Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            try
            {
                var decoded = ImpressionCodec.Decode(bytes);
                return ImpressionCodec.Encode(decoded).AsSpan().SequenceEqual(bytes); // what decodes is exactly what it encodes from
            }
            catch (FormatException)
            {
                return true;
            }
        });

    [Theory]
    [InlineData(new byte[] { 2, 0 })]
    [InlineData(new byte[] { 1, 1, 1, 1, 0xFF })]
    [InlineData(new byte[] { 1, 0, 7 })]
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F })]
    public void AnotherVersion_InvalidUtf8_TrailingBytes_OrHugeCounts_AreRefused(byte[] bytes)
        => Assert.Throws<FormatException>(() => ImpressionCodec.Decode(bytes));
}
