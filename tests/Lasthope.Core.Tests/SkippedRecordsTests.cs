using Lasthope.Core.Storage;

namespace Lasthope.Core.Tests;

public sealed class SkippedRecordsTests
{
    [Fact]
    public void ARecord_IsCountedOnce_AndTheFirstOnesAreKeptWithTheirSequence()
    {
        var skipped = new SkippedRecords();
        var raised = new List<SkippedRecord>();
        skipped.Skipped += raised.Add;
        skipped.Add("ranking", 7, new FormatException("bad"));
        skipped.Add("ranking", 7, new FormatException("bad again"));
        skipped.Add("event", 7, new FormatException("other table"));
        Assert.Equal(2, skipped.Count);
        Assert.Equal([new SkippedRecord("ranking", 7, "bad"), new SkippedRecord("event", 7, "other table")], skipped.Records);
        Assert.Equal(skipped.Records, raised);
    }

    [Fact]
    public void PastTheKeptRecords_TheyAreOnlyCounted()
    {
        var skipped = new SkippedRecords();
        for (var i = 0; i < SkippedRecords.Kept + 50; i++)
        {
            skipped.Add("event", i, new FormatException("x"));
        }

        Assert.Equal(SkippedRecords.Kept + 50, skipped.Count);
        Assert.Equal(SkippedRecords.Kept, skipped.Records.Count);
    }
}
