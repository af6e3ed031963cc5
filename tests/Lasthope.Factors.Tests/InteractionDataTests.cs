using System.Text;
using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

public class InteractionDataTests
{
    [Fact]
    public void Crc32C_MatchesTheStandardCheckValue()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Crc32C_IsTheSame_WhenDataArrivesInPieces()
    {
        var data = Encoding.UTF8.GetBytes("The quick brown fox jumps over the lazy dog, twice over.");
        var crc = new Crc32C();
        crc.Append(data.AsSpan(0, 3));
        crc.Append(data.AsSpan(3, 20));
        crc.Append(data.AsSpan(23));
        Assert.Equal(Crc32C.Compute(data), crc.Value);
    }

    [Fact]
    public void FromCoordinates_SumsRepeatedCells_SortsColumns_AndDropsZeroSums()
    {
        var m = CsrMatrix.FromCoordinates(2, 4, [0, 0, 0, 1, 1, 1], [3, 1, 3, 2, 0, 2], [1f, 2f, 4f, 1f, 7f, -1f]);
        Assert.Equal([1, 3], m.RowIndices(0).ToArray());
        Assert.Equal([2f, 5f], m.RowValues(0).ToArray());
        Assert.Equal([0], m.RowIndices(1).ToArray());
        Assert.Equal([7f], m.RowValues(1).ToArray());
        Assert.Equal(3, m.NonZeros);
    }

    [Fact]
    public void Transpose_SwapsRowsAndColumns_WithSortedRows()
    {
        var m = CsrMatrix.FromCoordinates(3, 2, [0, 1, 2, 2], [1, 0, 0, 1], [1f, 2f, 3f, 4f]);
        var t = m.Transpose();
        Assert.Equal(2, t.RowCount);
        Assert.Equal(3, t.ColumnCount);
        Assert.Equal([1, 2], t.RowIndices(0).ToArray());
        Assert.Equal([2f, 3f], t.RowValues(0).ToArray());
        Assert.Equal([0, 2], t.RowIndices(1).ToArray());
        Assert.Equal([1f, 4f], t.RowValues(1).ToArray());
    }

    [Fact]
    public void IdMap_LooksUpBySpan_WithoutAllocating_AndRejectsDuplicates()
    {
        var map = IdMap.Create(["monitors", "4k vs 8k monitors"]);
        Assert.True(map.TryGetIndex("4k vs 8k monitors".AsSpan(), out var i));
        Assert.Equal(1, i);
        Assert.False(map.TryGetIndex("keyboards".AsSpan(), out _));
        Assert.Throws<ArgumentException>(() => IdMap.Create(["a", "a"]));
    }

    [Fact]
    public void Csv_ReadsHeaderQuotesWeightsAndTimestamps()
    {
        const string Csv = "user_id,keyword,weight,timestamp\n" +
            "c1,monitors,2,100\n" +
            "c1,\"monitors, 4k\",1.5,2024-01-01T00:00:00Z\n" +
            "\n" +
            "c2,monitors,,300\n";
        var builder = new InteractionLogBuilder();
        var n = InteractionCsv.Read(new StringReader(Csv), builder);
        var log = builder.Build();
        Assert.Equal(3, n);
        Assert.Equal(["c1", "c2"], log.Users.ToArray());
        Assert.Equal(["monitors", "monitors, 4k"], log.Items.ToArray());
        Assert.Equal([2f, 1.5f, 1f], log.Weights.ToArray());
        Assert.True(log.HasTimestamps);
        Assert.Equal(1704067200000L, log.Timestamps[1]);
    }

    [Fact]
    public void Csv_TreatsTheFirstLineAsData_WhenItIsNotAHeader()
    {
        var builder = new InteractionLogBuilder();
        var n = InteractionCsv.Read(new StringReader("10001,1000\n10001,1001\n"), builder);
        Assert.Equal(2, n);
        Assert.False(builder.Build().HasTimestamps);
    }

    [Fact]
    public void Csv_KeepsALineBreakInsideAQuotedField_AndCountsItInLaterLineNumbers()
    {
        var builder = new InteractionLogBuilder();
        var n = InteractionCsv.Read(new StringReader("u1,\"two\nlines\",2\nu2,\"say \"\"hi\"\"\"\n"), builder, CsvHeader.Absent);
        var log = builder.Build();
        Assert.Equal(2, n);
        Assert.Equal(["two\nlines", "say \"hi\""], log.Items.ToArray());
        var e = Assert.Throws<FormatException>(() => InteractionCsv.Read(new StringReader("u1,\"a\nb\"\nu2,i,bad\n"), new InteractionLogBuilder(), CsvHeader.Absent));
        Assert.Contains("Line 3", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("u,i,abc\nu,i,1\n", "Line 1")]
    [InlineData("u,i\nonlyone\n", "Line 2")]
    [InlineData("u,i\nu,\"unterminated\n", "Line 2")]
    [InlineData("u,i\nu,i,1,yesterday\n", "Line 2")]
    public void Csv_NamesTheLine_WhenItIsMalformed(string csv, string expected)
    {
        var e = Assert.Throws<FormatException>(() => InteractionCsv.Read(new StringReader(csv), new InteractionLogBuilder(), CsvHeader.Absent));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LogBuilder_KeepsKnownIndices_AndAppendsNewIds()
    {
        var items = IdMap.Create(["a", "b"]);
        var builder = new InteractionLogBuilder(knownItems: items);
        builder.Add("x", "c");
        builder.Add("x", "a");
        var log = builder.Build();
        Assert.Equal(["a", "b", "c"], log.Items.ToArray());
        Assert.Equal([2, 0], log.ItemIndices.ToArray());
    }

    [Fact]
    public void ToMatrix_WithFlags_KeepsTheFullIdMaps()
    {
        var builder = new InteractionLogBuilder();
        builder.Add("u1", "a");
        builder.Add("u2", "b");
        builder.Add("u1", "b");
        var log = builder.Build();
        var m = log.ToMatrix([true, false, false]);
        Assert.Equal(2, m.Users.Count);
        Assert.Equal(2, m.Items.Count);
        Assert.Equal(1, m.NonZeros);
        Assert.Equal(0, m.ByUser.RowLength(1));
    }
}
