using Lasthope.Trees.Data;

namespace Lasthope.Trees.Tests;

public sealed class DenseDatasetCsvTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"lasthope-csv-{Guid.NewGuid():N}.csv");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void ReadCsv_MatchesQuotedHeaderNames_AndReadsMissingCellsAsNaN()
    {
        File.WriteAllText(_path, "\"b\",\"a, quoted\"\n1.5,2\n,NA\n\n3,4\n");
        var data = DenseDataset.ReadCsv(_path, ["a, quoted", "b"]);
        Assert.Equal(3, data.Rows);
        Assert.Equal([2, 1.5], data.Row(0).ToArray());
        Assert.True(double.IsNaN(data.Row(1)[0]) && double.IsNaN(data.Row(1)[1]));
        Assert.Equal([4, 3], data.Row(2).ToArray());
    }

    [Fact]
    public void ReadCsv_NamesTheLine_OfACellThatIsNotANumber()
    {
        File.WriteAllText(_path, "1,2\n3,four\n");
        var e = Assert.ThrowsAny<FormatException>(() => DenseDataset.ReadCsv(_path, ["a", "b"]));
        Assert.Contains(":2: 'four'", e.Message, StringComparison.Ordinal);
    }
}
